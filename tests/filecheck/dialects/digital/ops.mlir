// RUN: h3pc-opt %s | filecheck %s
// RUN: %h3pc_roundtrip
// RUN: h3pc-opt %s --print-op-generic | filecheck %s --check-prefix=GENERIC

func.func @fallback_gemm(%x: tensor<2x8xf32>, %w: tensor<8x4xf32>, %bx: tensor<3x2x8xf32>, %v: tensor<8xf32>) -> (tensor<2x4xf32>, tensor<3x2x4xf32>, tensor<4xf32>) {
  %0 = digital.matmul %x, %w : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
  %1 = digital.matmul %bx, %w : (tensor<3x2x8xf32>, tensor<8x4xf32>) -> tensor<3x2x4xf32>
  %2 = digital.matmul %v, %w : (tensor<8xf32>, tensor<8x4xf32>) -> tensor<4xf32>
  func.return %0, %1, %2 : tensor<2x4xf32>, tensor<3x2x4xf32>, tensor<4xf32>
}

// CHECK-LABEL: func.func @fallback_gemm(%{{.*}}: tensor<2x8xf32>, %{{.*}}: tensor<8x4xf32>, %{{.*}}: tensor<3x2x8xf32>, %{{.*}}: tensor<8xf32>) -> (tensor<2x4xf32>, tensor<3x2x4xf32>, tensor<4xf32>) {
// CHECK-NEXT:  %{{.*}} = digital.matmul %{{.*}}, %{{.*}} : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
// CHECK-NEXT:  %{{.*}} = digital.matmul %{{.*}}, %{{.*}} : (tensor<3x2x8xf32>, tensor<8x4xf32>) -> tensor<3x2x4xf32>
// CHECK-NEXT:  %{{.*}} = digital.matmul %{{.*}}, %{{.*}} : (tensor<8xf32>, tensor<8x4xf32>) -> tensor<4xf32>
// CHECK-NEXT:  func.return %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x4xf32>, tensor<3x2x4xf32>, tensor<4xf32>

// GENERIC-LABEL: "func.func"() <{sym_name = "fallback_gemm", function_type = (tensor<2x8xf32>, tensor<8x4xf32>, tensor<3x2x8xf32>, tensor<8xf32>) -> (tensor<2x4xf32>, tensor<3x2x4xf32>, tensor<4xf32>)}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<2x8xf32>, %{{.*}}: tensor<8x4xf32>, %{{.*}}: tensor<3x2x8xf32>, %{{.*}}: tensor<8xf32>):
// GENERIC-NEXT:  %{{.*}} = "digital.matmul"(%{{.*}}, %{{.*}}) : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
// GENERIC-NEXT:  %{{.*}} = "digital.matmul"(%{{.*}}, %{{.*}}) : (tensor<3x2x8xf32>, tensor<8x4xf32>) -> tensor<3x2x4xf32>
// GENERIC-NEXT:  %{{.*}} = "digital.matmul"(%{{.*}}, %{{.*}}) : (tensor<8xf32>, tensor<8x4xf32>) -> tensor<4xf32>
// GENERIC-NEXT:  "func.return"(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<2x4xf32>, tensor<3x2x4xf32>, tensor<4xf32>) -> ()

func.func @join(%a: tensor<2x3xf32>, %b: tensor<2x1xf32>, %c: tensor<2x4xf32>) -> (tensor<2x8xf32>, tensor<2x3xf32>, tensor<4x3xf32>) {
  %0 = digital.join %a, %b, %c {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x4xf32>) -> tensor<2x8xf32>
  %1 = digital.join %a {axis = -1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = digital.join %a, %a {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
  func.return %0, %1, %2 : tensor<2x8xf32>, tensor<2x3xf32>, tensor<4x3xf32>
}

// CHECK-LABEL: func.func @join(%{{.*}}: tensor<2x3xf32>, %{{.*}}: tensor<2x1xf32>, %{{.*}}: tensor<2x4xf32>) -> (tensor<2x8xf32>, tensor<2x3xf32>, tensor<4x3xf32>) {
// CHECK-NEXT:  %{{.*}} = digital.join %{{.*}}, %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x4xf32>) -> tensor<2x8xf32>
// CHECK-NEXT:  %{{.*}} = digital.join %{{.*}} {axis = -1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = digital.join %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
// CHECK-NEXT:  func.return %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x8xf32>, tensor<2x3xf32>, tensor<4x3xf32>

// GENERIC-LABEL: "func.func"() <{sym_name = "join", function_type = (tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x4xf32>) -> (tensor<2x8xf32>, tensor<2x3xf32>, tensor<4x3xf32>)}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<2x3xf32>, %{{.*}}: tensor<2x1xf32>, %{{.*}}: tensor<2x4xf32>):
// GENERIC-NEXT:  %{{.*}} = "digital.join"(%{{.*}}, %{{.*}}, %{{.*}}) <{axis = 1 : i64}> : (tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x4xf32>) -> tensor<2x8xf32>
// GENERIC-NEXT:  %{{.*}} = "digital.join"(%{{.*}}) <{axis = -1 : i64}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "digital.join"(%{{.*}}, %{{.*}}) <{axis = 0 : i64}> : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
// GENERIC-NEXT:  "func.return"(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<2x8xf32>, tensor<2x3xf32>, tensor<4x3xf32>) -> ()

func.func @im2col(%x: tensor<2x4x5x5xf32>) -> (tensor<1x8x36xf32>, tensor<2x50x2xf32>) {
  %0 = digital.im2col %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<2x4x5x5xf32>) -> tensor<1x8x36xf32>
  %1 = digital.im2col %x {kernel = array<i64: 1, 1>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<2x4x5x5xf32>) -> tensor<2x50x2xf32>
  func.return %0, %1 : tensor<1x8x36xf32>, tensor<2x50x2xf32>
}

// CHECK-LABEL: func.func @im2col(%{{.*}}: tensor<2x4x5x5xf32>) -> (tensor<1x8x36xf32>, tensor<2x50x2xf32>) {
// CHECK-NEXT:  %{{.*}} = digital.im2col %{{.*}} {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<2x4x5x5xf32>) -> tensor<1x8x36xf32>
// CHECK-NEXT:  %{{.*}} = digital.im2col %{{.*}} {kernel = array<i64: 1, 1>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<2x4x5x5xf32>) -> tensor<2x50x2xf32>

// GENERIC-LABEL: "func.func"() <{sym_name = "im2col", function_type = (tensor<2x4x5x5xf32>) -> (tensor<1x8x36xf32>, tensor<2x50x2xf32>)}> ({
// GENERIC:  "digital.im2col"(%{{.*}}) <{kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64}> : (tensor<2x4x5x5xf32>) -> tensor<1x8x36xf32>
