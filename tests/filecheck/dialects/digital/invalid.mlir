// RUN: h3pc-opt %s --split-input-file --verify-diagnostics | filecheck %s

// digital.matmul (shared verify_matmul)
func.func @case0(%a: tensor<f32>, %b: tensor<f32>) {
  %0 = digital.matmul %a, %b : (tensor<f32>, tensor<f32>) -> tensor<f32>
  func.return
}
// CHECK: matmul operands must have rank >= 1

// -----

func.func @case1(%a: tensor<8xf32>, %b: tensor<6x4xf32>) {
  %0 = digital.matmul %a, %b : (tensor<8xf32>, tensor<6x4xf32>) -> tensor<4xf32>
  func.return
}
// CHECK: contraction dims differ: [8] x [6,4]

// -----

func.func @case2(%a: tensor<4x2x8xf32>, %b: tensor<3x8x4xf32>) {
  %0 = digital.matmul %a, %b : (tensor<4x2x8xf32>, tensor<3x8x4xf32>) -> tensor<4x2x4xf32>
  func.return
}
// CHECK: batch dims of [4,2,8] and [3,8,4] do not broadcast

// -----

func.func @case3(%a: tensor<1x2x8xf32>, %b: tensor<3x8x4xf32>) {
  %0 = digital.matmul %a, %b : (tensor<1x2x8xf32>, tensor<3x8x4xf32>) -> tensor<1x2x4xf32>
  func.return
}
// CHECK: result shape [1,2,4], expected [3,2,4]

// -----

// digital.join (shared verify_concat)
func.func @case4(%a: tensor<2x3xf32>) {
  %0 = "digital.join"() <{axis = 1 : i64}> : () -> tensor<2x3xf32>
  func.return
}
// CHECK: expects at least one operand

// -----

func.func @case5(%a: tensor<2x3xf32>, %b: tensor<4x1xf32>) {
  %0 = digital.join %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<4x1xf32>) -> tensor<2x4xf32>
  func.return
}
// CHECK: operand shapes [2,3], [4,1] differ off the axis

// -----

func.func @case6(%a: tensor<2x3xf32>, %b: tensor<2x3x1xf32>) {
  %0 = digital.join %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x3x1xf32>) -> tensor<2x6xf32>
  func.return
}
// CHECK: operand shapes [2,3], [2,3,1] differ off the axis

// -----

func.func @case7(%a: tensor<2x3xf32>, %b: tensor<2x1xf32>) {
  %0 = digital.join %a, %b {axis = -3 : i64} : (tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<2x4xf32>
  func.return
}
// CHECK: axis -3 is out of range for rank 2

// -----

func.func @case8(%a: tensor<2x3xf32>, %b: tensor<2x1xf32>) {
  %0 = digital.join %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: result shape [2,3], expected [2,4]

// -----

// IRDL: missing required property
func.func @case9(%a: tensor<2x3xf32>, %b: tensor<2x1xf32>) {
  %0 = digital.join %a, %b : (tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<2x4xf32>
  func.return
}
// CHECK: property 'axis' expected in operation 'digital.join'

// -----

// IRDL: wrong operand type
func.func @case10(%a: memref<2x8xf32>, %b: tensor<8x4xf32>) {
  %0 = "digital.matmul"(%a, %b) : (memref<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
  func.return
}
// CHECK: memref<2x8xf32> should be of base attribute tensor
