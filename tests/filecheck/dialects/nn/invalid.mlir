// RUN: h3pc-opt %s --split-input-file --verify-diagnostics | filecheck %s

// constant
func.func @case0(%x: tensor<1xf32>) {
  %0 = nn.constant {value = dense<[1.0, 2.0]> : tensor<2xf32>} : tensor<3xf32>
  func.return
}
// CHECK: value type tensor<2xf32> does not match result type tensor<3xf32>

// -----

func.func @case1(%x: tensor<1xf32>) {
  %0 = nn.constant {value = dense_resource<w0> : tensor<4x4xf32>} : tensor<4x4xf16>
  func.return
}
// CHECK: value type tensor<4x4xf32> does not match result type tensor<4x4xf16>

// -----

// unary
func.func @case2(%x: tensor<2x3xf32>) {
  %0 = nn.relu %x : (tensor<2x3xf32>) -> tensor<3x2xf32>
  func.return
}
// CHECK: result shape [3,2] differs from operand shape [2,3]

// -----

// binary broadcast
func.func @case3(%a: tensor<2x3xf32>, %b: tensor<4xf32>) {
  %0 = nn.add %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: operand shapes [2,3], [4] do not broadcast

// -----

func.func @case4(%a: tensor<2x3xf32>, %b: tensor<3xf32>) {
  %0 = nn.mul %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<3xf32>
  func.return
}
// CHECK: result shape [3] is not the broadcast shape [2,3]

// -----

// variadic
func.func @case5(%a: tensor<2x3xf32>) {
  %0 = "nn.sum"() : () -> tensor<2x3xf32>
  func.return
}
// CHECK: expects at least one operand

// -----

func.func @case6(%a: tensor<2x3xf32>, %b: tensor<5x1xf32>, %c: tensor<4xf32>) {
  %0 = nn.max %a, %b, %c : (tensor<2x3xf32>, tensor<5x1xf32>, tensor<4xf32>) -> tensor<5x3xf32>
  func.return
}
// CHECK: operand shapes [2,3], [5,1], [4] do not broadcast

// -----

// where
func.func @case7(%c: tensor<4x1xi1>, %a: tensor<3xf32>, %b: tensor<3xf32>) {
  %0 = nn.where %c, %a, %b : (tensor<4x1xi1>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  func.return
}
// CHECK: result shape [3] is not the broadcast shape [4,3]

// -----

// gelu
func.func @case8(%x: tensor<4xf32>) {
  %0 = nn.gelu %x {approximate = "fast"} : (tensor<4xf32>) -> tensor<4xf32>
  func.return
}
// CHECK: approximate must be 'none' or 'tanh', got 'fast'

// -----

// matmul
func.func @case9(%a: tensor<f32>, %b: tensor<4xf32>) {
  %0 = nn.matmul %a, %b : (tensor<f32>, tensor<4xf32>) -> tensor<f32>
  func.return
}
// CHECK: matmul operands must have rank >= 1

// -----

func.func @case10(%a: tensor<2x4xf32>, %b: tensor<5x3xf32>) {
  %0 = nn.matmul %a, %b : (tensor<2x4xf32>, tensor<5x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: contraction dims differ: [2,4] x [5,3]

// -----

func.func @case11(%a: tensor<2x2x4xf32>, %b: tensor<3x4x5xf32>) {
  %0 = nn.matmul %a, %b : (tensor<2x2x4xf32>, tensor<3x4x5xf32>) -> tensor<2x2x5xf32>
  func.return
}
// CHECK: batch dims of [2,2,4] and [3,4,5] do not broadcast

// -----

func.func @case12(%a: tensor<2x4xf32>, %b: tensor<4x3xf32>) {
  %0 = nn.matmul %a, %b : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<3x2xf32>
  func.return
}
// CHECK: result shape [3,2], expected [2,3]

// -----

// gemm
func.func @case13(%a: tensor<2x4x1xf32>, %b: tensor<4x3xf32>) {
  %0 = "nn.gemm"(%a, %b) <{alpha = 1.0 : f64, beta = 1.0 : f64, trans_a = false, trans_b = false, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<2x4x1xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: gemm operands A and B must be 2-D

// -----

func.func @case14(%a: tensor<2x4xf32>, %b: tensor<4x3xf32>) {
  %0 = "nn.gemm"(%a, %b) <{alpha = 1.0 : f64, beta = 1.0 : f64, trans_a = false, trans_b = true, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  func.return
}
// CHECK: contraction dims differ: 4 vs 3

// -----

func.func @case15(%a: tensor<4x2xf32>, %b: tensor<4x3xf32>) {
  %0 = "nn.gemm"(%a, %b) <{alpha = 1.0 : f64, beta = 1.0 : f64, trans_a = true, trans_b = false, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<4x2xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  func.return
}
// CHECK: result shape [4,3], expected [2,3]

// -----

func.func @case16(%a: tensor<2x4xf32>, %b: tensor<4x3xf32>, %c: tensor<2xf32>) {
  %0 = "nn.gemm"(%a, %b, %c) <{alpha = 1.0 : f64, beta = 1.0 : f64, trans_a = false, trans_b = false, operandSegmentSizes = array<i32: 1, 1, 1>}> : (tensor<2x4xf32>, tensor<4x3xf32>, tensor<2xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: C of shape [2] does not broadcast to [2,3]

// -----

// conv base
func.func @case17(%x: tensor<1x2x5xf32>, %w: tensor<4x2x3x3xf32>) {
  %0 = "nn.conv"(%x, %w) <{strides = array<i64: 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1>, group = 1 : i64, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<1x2x5xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x3xf32>
  func.return
}
// CHECK: input [1,2,5] and weight [4,2,3,3] must have the same rank >= 3

// -----

func.func @case18(%x: tensor<1x2x5x5xf32>, %w: tensor<4x2x3x3xf32>) {
  %0 = "nn.conv"(%x, %w) <{strides = array<i64: 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<1x2x5x5xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x3x3xf32>
  func.return
}
// CHECK: strides needs 2 values, got 1

// -----

func.func @case19(%x: tensor<1x2x5x5xf32>, %w: tensor<4x2x3x3xf32>) {
  %0 = "nn.conv"(%x, %w) <{strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1, 1>, group = 1 : i64, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<1x2x5x5xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x3x3xf32>
  func.return
}
// CHECK: dilations needs 2 values, got 3

// -----

func.func @case20(%x: tensor<1x2x5x5xf32>, %w: tensor<4x2x3x3xf32>) {
  %0 = "nn.conv"(%x, %w) <{strides = array<i64: 1, 1>, pads = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<1x2x5x5xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x5x5xf32>
  func.return
}
// CHECK: pads needs 4 values, got 2

// -----

func.func @case21(%x: tensor<1x2x5x5xf32>, %w: tensor<4x2x3x3xf32>) {
  %0 = "nn.conv"(%x, %w) <{strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 0 : i64, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<1x2x5x5xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x3x3xf32>
  func.return
}
// CHECK: group must be >= 1

// -----

// conv
func.func @case22(%x: tensor<1x3x5x5xf32>, %w: tensor<4x2x3x3xf32>) {
  %0 = "nn.conv"(%x, %w) <{strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<1x3x5x5xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x3x3xf32>
  func.return
}
// CHECK: input channels 3 != weight channels 2 x group 1

// -----

func.func @case23(%x: tensor<1x4x5x5xf32>, %w: tensor<3x2x3x3xf32>) {
  %0 = "nn.conv"(%x, %w) <{strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<1x4x5x5xf32>, tensor<3x2x3x3xf32>) -> tensor<1x3x3x3xf32>
  func.return
}
// CHECK: output channels 3 not divisible by group 2

// -----

func.func @case24(%x: tensor<1x2x5x5xf32>, %w: tensor<4x2x3x3xf32>, %b: tensor<4xf32>) {
  %0 = "nn.conv"(%x, %w, %b) <{strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64, operandSegmentSizes = array<i32: 1, 1, 1>}> : (tensor<1x2x5x5xf32>, tensor<4x2x3x3xf32>, tensor<4xf32>) -> tensor<1x4x5x5xf32>
  func.return
}
// CHECK: result shape [1,4,5,5], expected [1,4,3,3]

// -----

// conv_transpose
func.func @case25(%x: tensor<1x2x5x5xf32>, %w: tensor<3x3x2x2xf32>) {
  %0 = "nn.conv_transpose"(%x, %w) <{strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, output_padding = array<i64: 0, 0>, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<1x2x5x5xf32>, tensor<3x3x2x2xf32>) -> tensor<1x3x6x6xf32>
  func.return
}
// CHECK: input channels 2 != weight dim 0 3

// -----

func.func @case26(%x: tensor<1x2x5x5xf32>, %w: tensor<2x3x2x2xf32>) {
  %0 = "nn.conv_transpose"(%x, %w) <{strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, output_padding = array<i64: 1, 1>, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<1x2x5x5xf32>, tensor<2x3x2x2xf32>) -> tensor<1x3x10x10xf32>
  func.return
}
// CHECK: result shape [1,3,10,10], expected [1,3,11,11]

// -----

// batch_norm
func.func @case27(%x: tensor<4xf32>, %c: tensor<4xf32>) {
  %0 = nn.batch_norm %x, %c, %c, %c, %c {epsilon = 1.0e-05 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return
}
// CHECK: batch_norm input must have rank >= 2

// -----

func.func @case28(%x: tensor<1x2x3x3xf32>, %c: tensor<2xf32>, %d: tensor<3xf32>) {
  %0 = nn.batch_norm %x, %c, %c, %d, %c {epsilon = 1.0e-05 : f64} : (tensor<1x2x3x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<3xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32>
  func.return
}
// CHECK: per-channel operand of shape [3], expected [2]

// -----

func.func @case29(%x: tensor<1x2x3x3xf32>, %c: tensor<2xf32>) {
  %0 = nn.batch_norm %x, %c, %c, %c, %c {epsilon = 1.0e-05 : f64} : (tensor<1x2x3x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x9xf32>
  func.return
}
// CHECK: result shape differs from input shape

// -----

// layer_norm / rms_norm
func.func @case30(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>) {
  %0 = "nn.layer_norm"(%x, %g) <{axis = 3 : i64, epsilon = 1.0e-05 : f64, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  func.return
}
// CHECK: axis 3 is out of range for rank 3

// -----

func.func @case31(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<3xf32>) {
  %0 = "nn.layer_norm"(%x, %g, %b) <{axis = -1 : i64, epsilon = 1.0e-05 : f64, operandSegmentSizes = array<i32: 1, 1, 1>}> : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<3xf32>) -> tensor<2x3x4xf32>
  func.return
}
// CHECK: scale/bias of shape [3] does not broadcast to [4]

// -----

func.func @case32(%x: tensor<2x3x4xf32>, %g: tensor<3x4xf32>) {
  %0 = "nn.rms_norm"(%x, %g) <{axis = -2 : i64, epsilon = 1.0e-06 : f64, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<2x3x4xf32>, tensor<3x4xf32>) -> tensor<2x12xf32>
  func.return
}
// CHECK: result shape differs from input shape

// -----

// softmax (axis)
func.func @case33(%x: tensor<2x3xf32>) {
  %0 = nn.softmax %x {axis = -3 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: axis -3 is out of range for rank 2

// -----

// pool
func.func @case34(%x: tensor<1x2x5x5xf32>) {
  %0 = nn.max_pool %x {kernel = array<i64: 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false} : (tensor<1x2x5x5xf32>) -> tensor<1x2x2x2xf32>
  func.return
}
// CHECK: kernel/strides/dilations/pads do not fit input [1,2,5,5]

// -----

func.func @case35(%x: tensor<1x2x5x5xf32>) {
  %0 = nn.avg_pool %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false, count_include_pad = false} : (tensor<1x2x5x5xf32>) -> tensor<1x2x3x3xf32>
  func.return
}
// CHECK: result shape [1,2,3,3], expected [1,2,2,2]

// -----

// resize
func.func @case36(%x: tensor<1x1x2x2xf32>) {
  %0 = nn.resize %x {scales = [1.0 : f64, 1.0 : f64, 2.0 : f64, 2.0 : f64], mode = "bilinear", coordinate_transformation_mode = "half_pixel", nearest_mode = "round_prefer_floor", cubic_coeff_a = -0.75 : f64, exclude_outside = false} : (tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32>
  func.return
}
// CHECK: unknown resize mode 'bilinear'

// -----

func.func @case37(%x: tensor<1x1x2x2xf32>) {
  %0 = nn.resize %x {scales = [2.0 : f64, 2.0 : f64], mode = "linear", coordinate_transformation_mode = "half_pixel", nearest_mode = "round_prefer_floor", cubic_coeff_a = -0.75 : f64, exclude_outside = false} : (tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32>
  func.return
}
// CHECK: scales need one value per input dim

// -----

// reduce
func.func @case38(%x: tensor<2x3xf32>) {
  %0 = nn.reduce_sum %x {axes = array<i64: 2>, keepdims = true} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: reduction axis 2 is out of range for rank 2

// -----

func.func @case39(%x: tensor<2x3xf32>) {
  %0 = nn.reduce_mean %x {axes = array<i64: 1>, keepdims = true} : (tensor<2x3xf32>) -> tensor<2xf32>
  func.return
}
// CHECK: result shape [2], expected [2,1]

// -----

// arg
func.func @case40(%x: tensor<2x3xf32>) {
  %0 = nn.arg_max %x {axis = -4 : i64, keepdims = false, select_last_index = false} : (tensor<2x3xf32>) -> tensor<2xi64>
  func.return
}
// CHECK: axis -4 is out of range for rank 2

// -----

func.func @case41(%x: tensor<2x3xf32>) {
  %0 = nn.arg_min %x {axis = 0 : i64, keepdims = false, select_last_index = false} : (tensor<2x3xf32>) -> tensor<2xi64>
  func.return
}
// CHECK: result shape [2], expected [3]

// -----

// reshape / broadcast / transpose
func.func @case42(%x: tensor<2x3xf32>) {
  %0 = nn.reshape %x : (tensor<2x3xf32>) -> tensor<7xf32>
  func.return
}
// CHECK: cannot reshape [2,3] into [7]: element counts differ

// -----

func.func @case43(%x: tensor<2x3xf32>) {
  %0 = nn.broadcast %x : (tensor<2x3xf32>) -> tensor<2x4xf32>
  func.return
}
// CHECK: cannot broadcast [2,3] to [2,4]

// -----

func.func @case44(%x: tensor<2x3x4xf32>) {
  %0 = nn.transpose %x {perm = array<i64: 0, 2, 2>} : (tensor<2x3x4xf32>) -> tensor<2x4x4xf32>
  func.return
}
// CHECK: perm [0, 2, 2] is not a permutation of 3 dims

// -----

func.func @case45(%x: tensor<2x3x4xf32>) {
  %0 = nn.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  func.return
}
// CHECK: result shape [2,3,4] does not match perm

// -----

// slice
func.func @case46(%x: tensor<4x4xf32>) {
  %0 = nn.slice %x {starts = array<i64: 0>, ends = array<i64: 2>, steps = array<i64: 1>} : (tensor<4x4xf32>) -> tensor<2x4xf32>
  func.return
}
// CHECK: starts/ends/steps need 2 values each

// -----

func.func @case47(%x: tensor<4x4xf32>) {
  %0 = nn.slice %x {starts = array<i64: 0, 0>, ends = array<i64: 2, 4>, steps = array<i64: 1, 0>} : (tensor<4x4xf32>) -> tensor<2x4xf32>
  func.return
}
// CHECK: slice step must not be 0

// -----

func.func @case48(%x: tensor<4x4xf32>) {
  %0 = nn.slice %x {starts = array<i64: 0, 3>, ends = array<i64: 4, -1>, steps = array<i64: 2, -1>} : (tensor<4x4xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: result shape [2,3], expected [2,4]

// -----

// concat
func.func @case49(%a: tensor<2x3xf32>, %b: tensor<3x3xf32>) {
  %0 = nn.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<3x3xf32>) -> tensor<2x6xf32>
  func.return
}
// CHECK: operand shapes [2,3], [3,3] differ off the axis

// -----

func.func @case50(%a: tensor<2x3xf32>, %b: tensor<2x1xf32>) {
  %0 = nn.concat %a, %b {axis = 2 : i64} : (tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<2x4xf32>
  func.return
}
// CHECK: axis 2 is out of range for rank 2

// -----

func.func @case51(%a: tensor<2x3xf32>, %b: tensor<2x1xf32>) {
  %0 = nn.concat %a, %b {axis = -1 : i64} : (tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<4x4xf32>
  func.return
}
// CHECK: result shape [4,4], expected [2,4]

// -----

func.func @case52(%a: tensor<2x3xf32>) {
  %0 = "nn.concat"() <{axis = 0 : i64}> : () -> tensor<2x3xf32>
  func.return
}
// CHECK: expects at least one operand

// -----

// gather
func.func @case53(%x: tensor<3x4xf32>, %i: tensor<2xi64>) {
  %0 = nn.gather %x, %i {axis = 3 : i64} : (tensor<3x4xf32>, tensor<2xi64>) -> tensor<2x4xf32>
  func.return
}
// CHECK: axis 3 is out of range for rank 2

// -----

func.func @case54(%x: tensor<3x4xf32>, %i: tensor<5xi64>) {
  %0 = nn.gather %x, %i {axis = 1 : i64} : (tensor<3x4xf32>, tensor<5xi64>) -> tensor<5x4xf32>
  func.return
}
// CHECK: result shape [5,4], expected [3,5]

// -----

func.func @case55(%x: tensor<3x4xf32>, %i: tensor<3x2xi64>) {
  %0 = nn.gather_elements %x, %i {axis = 1 : i64} : (tensor<3x4xf32>, tensor<3x2xi64>) -> tensor<3x4xf32>
  func.return
}
// CHECK: result shape differs from indices shape

// -----

func.func @case56(%x: tensor<3x4xf32>, %i: tensor<2x3xi64>) {
  %0 = nn.gather_nd %x, %i {batch_dims = 0 : i64} : (tensor<3x4xf32>, tensor<2x3xi64>) -> tensor<2xf32>
  func.return
}
// CHECK: index depth 3 exceeds data rank 2 - batch_dims 0

// -----

func.func @case57(%x: tensor<3x5xf32>, %i: tensor<2x1xi64>) {
  %0 = nn.gather_nd %x, %i {batch_dims = 0 : i64} : (tensor<3x5xf32>, tensor<2x1xi64>) -> tensor<2x3xf32>
  func.return
}
// CHECK: result shape [2,3], expected [2,5]

// -----

// pad
func.func @case58(%x: tensor<2x3xf32>) {
  %0 = nn.pad %x {pads = array<i64: 1, 1>, mode = "constant", value = 0.0 : f64} : (tensor<2x3xf32>) -> tensor<3x4xf32>
  func.return
}
// CHECK: pads need 4 values, got 2

// -----

func.func @case59(%x: tensor<2x3xf32>) {
  %0 = nn.pad %x {pads = array<i64: 0, 1, 0, 1>, mode = "symmetric", value = 0.0 : f64} : (tensor<2x3xf32>) -> tensor<2x5xf32>
  func.return
}
// CHECK: unknown pad mode 'symmetric'

// -----

func.func @case60(%x: tensor<2x3xf32>) {
  %0 = nn.pad %x {pads = array<i64: 0, 1, 0, -1>, mode = "edge", value = 0.0 : f64} : (tensor<2x3xf32>) -> tensor<2x5xf32>
  func.return
}
// CHECK: result shape [2,5], expected [2,3]

// -----

// tile
func.func @case61(%x: tensor<2x3xf32>) {
  %0 = nn.tile %x {repeats = array<i64: 2, 2>} : (tensor<2x3xf32>) -> tensor<4x3xf32>
  func.return
}
// CHECK: result shape [4,3] does not match repeats [2, 2]

// -----

// split
func.func @case62(%x: tensor<2x5xf32>) {
  %0:2 = nn.split %x {axis = 1 : i64} : (tensor<2x5xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>)
  func.return
}
// CHECK: results [2,2], [2,2] do not split [2,5]

// -----

func.func @case63(%x: tensor<2x5xf32>) {
  %0:2 = nn.split %x {axis = 5 : i64} : (tensor<2x5xf32>) -> (tensor<2x2xf32>, tensor<2x3xf32>)
  func.return
}
// CHECK: axis 5 is out of range for rank 2

// -----

// IRDL: missing required property
func.func @case64(%x: tensor<2x3xf32>) {
  %0 = nn.softmax %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: property 'axis' expected in operation 'nn.softmax'

// -----

// IRDL: property of the wrong attribute kind
func.func @case65(%x: tensor<2x3xf32>) {
  %0 = nn.leaky_relu %x {alpha = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: 1 : i64 should be of base attribute float

// -----

// IRDL: wrong operand type
func.func @case66(%x: memref<2x3xf32>) {
  %0 = "nn.relu"(%x) : (memref<2x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: memref<2x3xf32> should be of base attribute tensor

// -----

// IRDL: missing operandSegmentSizes
func.func @case67(%a: tensor<2x4xf32>, %b: tensor<4x3xf32>) {
  %0 = "nn.gemm"(%a, %b) <{alpha = 1.0 : f64, beta = 1.0 : f64, trans_a = false, trans_b = false}> : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: operandSegmentSizes

// -----

func.func @concat_rank0(%a: tensor<f32>) {
  %0 = nn.concat %a, %a {axis = 0 : i64} : (tensor<f32>, tensor<f32>) -> tensor<2xf32>
  func.return
}
// CHECK: cannot concatenate rank-0 tensors

// -----

func.func @conv_zero_stride(%x: tensor<1x2x5x5xf32>, %w: tensor<4x2x3x3xf32>) {
  %0 = "nn.conv"(%x, %w) <{strides = array<i64: 0, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<1x2x5x5xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x3x3xf32>
  func.return
}
// CHECK: strides and dilations must be >= 1

// -----

func.func @pool_zero_stride(%x: tensor<1x2x4x4xf32>) {
  %0 = nn.max_pool %x {kernel = array<i64: 2, 2>, strides = array<i64: 0, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false} : (tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32>
  func.return
}
// CHECK: pool kernel, strides and dilations must be >= 1

// -----

func.func @split_low_rank(%x: tensor<2x5xf32>) {
  %0, %1 = nn.split %x {axis = 1 : i64} : (tensor<2x5xf32>) -> (tensor<2xf32>, tensor<2x5xf32>)
  func.return
}
// CHECK: do not split [2,5]
