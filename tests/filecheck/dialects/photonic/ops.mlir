// RUN: h3pc-opt %s | filecheck %s
// RUN: %h3pc_roundtrip
// RUN: h3pc-opt %s --print-op-generic | filecheck %s --check-prefix=GENERIC

func.func @attention_scores(%q: tensor<2x4x8xf32>, %kt: tensor<2x8x4xf32>) -> tensor<2x4x4xf32> {
  %s = photonic.matmul %q, %kt {in_bits = 8 : i64, w_bits = 8 : i64, out_bits = 10 : i64} : (tensor<2x4x8xf32>, tensor<2x8x4xf32>) -> tensor<2x4x4xf32>
  func.return %s : tensor<2x4x4xf32>
}

// CHECK-LABEL: func.func @attention_scores(%{{.*}}: tensor<2x4x8xf32>, %{{.*}}: tensor<2x8x4xf32>) -> tensor<2x4x4xf32> {
// CHECK-NEXT:  %{{.*}} = photonic.matmul %{{.*}}, %{{.*}} {in_bits = 8 : i64, w_bits = 8 : i64, out_bits = 10 : i64} : (tensor<2x4x8xf32>, tensor<2x8x4xf32>) -> tensor<2x4x4xf32>
// CHECK-NEXT:  func.return %{{.*}} : tensor<2x4x4xf32>

// GENERIC-LABEL: "func.func"() <{sym_name = "attention_scores", function_type = (tensor<2x4x8xf32>, tensor<2x8x4xf32>) -> tensor<2x4x4xf32>}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<2x4x8xf32>, %{{.*}}: tensor<2x8x4xf32>):
// GENERIC-NEXT:  %{{.*}} = "photonic.matmul"(%{{.*}}, %{{.*}}) <{in_bits = 8 : i64, w_bits = 8 : i64, out_bits = 10 : i64}> : (tensor<2x4x8xf32>, tensor<2x8x4xf32>) -> tensor<2x4x4xf32>
// GENERIC-NEXT:  "func.return"(%{{.*}}) : (tensor<2x4x4xf32>) -> ()

func.func @mixed(%x: tensor<3x8xf32>, %w: tensor<8x2xf32>, %v: tensor<8xf32>) -> (tensor<3x2xf32>, tensor<3xf32>) {
  %0 = photonic.matmul %x, %w {in_bits = 1 : i64, w_bits = 16 : i64, out_bits = 16 : i64} : (tensor<3x8xf32>, tensor<8x2xf32>) -> tensor<3x2xf32>
  %1 = photonic.matmul %x, %v {in_bits = 4 : i64, w_bits = 4 : i64, out_bits = 8 : i64} : (tensor<3x8xf32>, tensor<8xf32>) -> tensor<3xf32>
  func.return %0, %1 : tensor<3x2xf32>, tensor<3xf32>
}

// CHECK-LABEL: func.func @mixed(%{{.*}}: tensor<3x8xf32>, %{{.*}}: tensor<8x2xf32>, %{{.*}}: tensor<8xf32>) -> (tensor<3x2xf32>, tensor<3xf32>) {
// CHECK-NEXT:  %{{.*}} = photonic.matmul %{{.*}}, %{{.*}} {in_bits = 1 : i64, w_bits = 16 : i64, out_bits = 16 : i64} : (tensor<3x8xf32>, tensor<8x2xf32>) -> tensor<3x2xf32>
// CHECK-NEXT:  %{{.*}} = photonic.matmul %{{.*}}, %{{.*}} {in_bits = 4 : i64, w_bits = 4 : i64, out_bits = 8 : i64} : (tensor<3x8xf32>, tensor<8xf32>) -> tensor<3xf32>
// CHECK-NEXT:  func.return %{{.*}}, %{{.*}} : tensor<3x2xf32>, tensor<3xf32>

// GENERIC-LABEL: "func.func"() <{sym_name = "mixed", function_type = (tensor<3x8xf32>, tensor<8x2xf32>, tensor<8xf32>) -> (tensor<3x2xf32>, tensor<3xf32>)}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<3x8xf32>, %{{.*}}: tensor<8x2xf32>, %{{.*}}: tensor<8xf32>):
// GENERIC-NEXT:  %{{.*}} = "photonic.matmul"(%{{.*}}, %{{.*}}) <{in_bits = 1 : i64, w_bits = 16 : i64, out_bits = 16 : i64}> : (tensor<3x8xf32>, tensor<8x2xf32>) -> tensor<3x2xf32>
// GENERIC-NEXT:  %{{.*}} = "photonic.matmul"(%{{.*}}, %{{.*}}) <{in_bits = 4 : i64, w_bits = 4 : i64, out_bits = 8 : i64}> : (tensor<3x8xf32>, tensor<8xf32>) -> tensor<3xf32>
// GENERIC-NEXT:  "func.return"(%{{.*}}, %{{.*}}) : (tensor<3x2xf32>, tensor<3xf32>) -> ()
