// RUN: h3pc-opt %s --split-input-file --verify-diagnostics | filecheck %s

// converter resolutions
func.func @case0(%a: tensor<2x4xf32>, %b: tensor<4x3xf32>) {
  %0 = photonic.matmul %a, %b {in_bits = 0 : i64, w_bits = 8 : i64, out_bits = 8 : i64} : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: in_bits must be in 1..16, got 0

// -----

func.func @case1(%a: tensor<2x4xf32>, %b: tensor<4x3xf32>) {
  %0 = photonic.matmul %a, %b {in_bits = 8 : i64, w_bits = 17 : i64, out_bits = 8 : i64} : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: w_bits must be in 1..16, got 17

// -----

func.func @case2(%a: tensor<2x4xf32>, %b: tensor<4x3xf32>) {
  %0 = photonic.matmul %a, %b {in_bits = 8 : i64, w_bits = 8 : i64, out_bits = -1 : i64} : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: out_bits must be in 1..16, got -1

// -----

// shapes (shared verify_matmul)
func.func @case3(%a: tensor<f32>, %b: tensor<4x3xf32>) {
  %0 = photonic.matmul %a, %b {in_bits = 8 : i64, w_bits = 8 : i64, out_bits = 8 : i64} : (tensor<f32>, tensor<4x3xf32>) -> tensor<3xf32>
  func.return
}
// CHECK: matmul operands must have rank >= 1

// -----

func.func @case4(%a: tensor<2x4xf32>, %b: tensor<3x4xf32>) {
  %0 = photonic.matmul %a, %b {in_bits = 8 : i64, w_bits = 8 : i64, out_bits = 8 : i64} : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  func.return
}
// CHECK: contraction dims differ: [2,4] x [3,4]

// -----

func.func @case5(%a: tensor<2x2x4xf32>, %b: tensor<3x4x2xf32>) {
  %0 = photonic.matmul %a, %b {in_bits = 8 : i64, w_bits = 8 : i64, out_bits = 8 : i64} : (tensor<2x2x4xf32>, tensor<3x4x2xf32>) -> tensor<2x2x2xf32>
  func.return
}
// CHECK: batch dims of [2,2,4] and [3,4,2] do not broadcast

// -----

func.func @case6(%a: tensor<2x4xf32>, %b: tensor<4x3xf32>) {
  %0 = photonic.matmul %a, %b {in_bits = 8 : i64, w_bits = 8 : i64, out_bits = 8 : i64} : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  func.return
}
// CHECK: result shape [2,4], expected [2,3]

// -----

// IRDL: missing required property
func.func @case7(%a: tensor<2x4xf32>, %b: tensor<4x3xf32>) {
  %0 = photonic.matmul %a, %b {in_bits = 8 : i64, w_bits = 8 : i64} : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: property 'out_bits' expected in operation 'photonic.matmul'

// -----

// IRDL: property of the wrong attribute kind
func.func @case8(%a: tensor<2x4xf32>, %b: tensor<4x3xf32>) {
  %0 = photonic.matmul %a, %b {in_bits = 8.0 : f32, w_bits = 8 : i64, out_bits = 8 : i64} : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: 8.000000e+00 : f32 should be of base attribute integer
