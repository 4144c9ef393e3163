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

// -----

func.func @case11(%x: tensor<4x5xf32>) {
  %0 = digital.im2col %x {kernel = array<i64: 3>, strides = array<i64: 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1>, group = 1 : i64} : (tensor<4x5xf32>) -> tensor<1x4x3xf32>
  func.return
}
// CHECK: input [4,5] must be [N, C, *spatial]

// -----

func.func @case12(%x: tensor<1x4x5x5xf32>) {
  %0 = digital.im2col %x {kernel = array<i64: 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x5x5xf32>) -> tensor<1x9x36xf32>
  func.return
}
// CHECK: kernel needs 2 values, got 1

// -----

func.func @case13(%x: tensor<1x4x5x5xf32>) {
  %0 = digital.im2col %x {kernel = array<i64: 1, 1>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 3 : i64} : (tensor<1x4x5x5xf32>) -> tensor<3x25x1xf32>
  func.return
}
// CHECK: group 3 does not divide input channels 4

// -----

func.func @case14(%x: tensor<1x4x2x2xf32>) {
  %0 = digital.im2col %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x2x2xf32>) -> tensor<1x1x36xf32>
  func.return
}
// CHECK: window does not fit the padded input (output spatial [0,0])

// -----

func.func @case15(%x: tensor<1x4x5x5xf32>) {
  %0 = digital.im2col %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x5x5xf32>) -> tensor<1x9x35xf32>
  func.return
}
// CHECK: result shape [1,9,35], expected [1,9,36]
