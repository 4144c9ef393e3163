// RUN: h3pc-opt %s --split-input-file --verify-diagnostics | filecheck %s

// The verifiers of the long-tail ops (tail.mlir holds their valid forms).

func.func @case0(%x: tensor<4xui8>) {
  %0 = nn.bit_shift %x, %x {direction = "up"} : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  func.return
}
// CHECK: direction must be 'left' or 'right', got 'up'

// -----

func.func @case1(%a: tensor<2x3xi32>, %b: tensor<4xi32>) {
  %0 = nn.mod %a, %b {fmod = false} : (tensor<2x3xi32>, tensor<4xi32>) -> tensor<2x3xi32>
  func.return
}
// CHECK: operand shapes [2,3], [4] do not broadcast

// -----

func.func @case2(%x: tensor<2x3xf32>) {
  %0 = nn.celu %x {alpha = 0.0 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: alpha must not be 0

// -----

func.func @case3(%x: tensor<2x3xf32>) {
  %0 = nn.is_inf %x {detect_positive = true, detect_negative = true} : (tensor<2x3xf32>) -> tensor<3x2xi1>
  func.return
}
// CHECK: result shape [3,2] differs from operand shape [2,3]

// -----

func.func @case4(%x: tensor<2x3xf32>) {
  %0 = nn.lp_norm %x {axis = 1 : i64, p = 3 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: p must be 1 or 2, got 3

// -----

func.func @case5(%x: tensor<2x3xf32>) {
  %0 = nn.cumsum %x {axis = 2 : i64, exclusive = false, reverse = false} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: axis 2 is out of range for rank 2

// -----

func.func @case6(%x: tensor<5xf32>) {
  %0 = nn.trilu %x {upper = true, k = 0 : i64} : (tensor<5xf32>) -> tensor<5xf32>
  func.return
}
// CHECK: trilu needs an input of rank >= 2

// -----

func.func @case7(%x: tensor<2x3xf32>) {
  %0, %1 = nn.top_k %x {axis = 1 : i64, k = 4 : i64, largest = true} : (tensor<2x3xf32>) -> (tensor<2x4xf32>, tensor<2x4xi64>)
  func.return
}
// CHECK: k 4 is out of range for axis 1 of [2,3]

// -----

func.func @case8(%x: tensor<2x3xf32>) {
  %0, %1 = nn.top_k %x {axis = 1 : i64, k = 2 : i64, largest = false} : (tensor<2x3xf32>) -> (tensor<2x2xf32>, tensor<2x3xi64>)
  func.return
}
// CHECK: result shape [2,3], expected [2,2]

// -----

func.func @case9(%i: tensor<3xi64>, %v: tensor<3xf32>) {
  %0 = nn.one_hot %i, %v {axis = 1 : i64, depth = 4 : i64} : (tensor<3xi64>, tensor<3xf32>) -> tensor<3x4xf32>
  func.return
}
// CHECK: values must have shape [2], got [3]

// -----

func.func @case10(%i: tensor<3xi64>, %v: tensor<2xf32>) {
  %0 = nn.one_hot %i, %v {axis = 0 : i64, depth = 4 : i64} : (tensor<3xi64>, tensor<2xf32>) -> tensor<3x4xf32>
  func.return
}
// CHECK: result shape [3,4], expected [4,3]

// -----

func.func @case11(%d: tensor<4x5xf32>, %i: tensor<2x5xi64>, %u: tensor<2x5xf32>) {
  %0 = nn.scatter_elements %d, %i, %u {axis = 0 : i64, reduction = "avg"} : (tensor<4x5xf32>, tensor<2x5xi64>, tensor<2x5xf32>) -> tensor<4x5xf32>
  func.return
}
// CHECK: reduction must be one of none, add, mul, max, min, got 'avg'

// -----

func.func @case12(%d: tensor<4x5xf32>, %i: tensor<2x5xi64>, %u: tensor<2x4xf32>) {
  %0 = nn.scatter_elements %d, %i, %u {axis = 0 : i64, reduction = "none"} : (tensor<4x5xf32>, tensor<2x5xi64>, tensor<2x4xf32>) -> tensor<4x5xf32>
  func.return
}
// CHECK: indices and updates must have one shape, of the data's rank

// -----

func.func @case13(%d: tensor<4x5xf32>, %i: tensor<3x1xi64>, %u: tensor<3x4xf32>) {
  %0 = nn.scatter_nd %d, %i, %u {reduction = "none"} : (tensor<4x5xf32>, tensor<3x1xi64>, tensor<3x4xf32>) -> tensor<4x5xf32>
  func.return
}
// CHECK: updates shape [3,4], expected [3,5]

// -----

func.func @case14(%d: tensor<4x5xf32>, %i: tensor<3x3xi64>, %u: tensor<3xf32>) {
  %0 = nn.scatter_nd %d, %i, %u {reduction = "mul"} : (tensor<4x5xf32>, tensor<3x3xi64>, tensor<3xf32>) -> tensor<4x5xf32>
  func.return
}
// CHECK: index depth 3 exceeds data rank 2

// -----

func.func @case15(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) {
  %0 = nn.einsum %a, %b {equation = "ij,jk->ik"} : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  func.return
}
// CHECK: label 'j' has sizes 3 and 4

// -----

func.func @case16(%a: tensor<2x3xf32>) {
  %0 = nn.einsum %a {equation = "ij->ji"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: result shape [2,3], expected [3,2]

// -----

func.func @case17(%a: tensor<2x3xf32>) {
  %0 = nn.einsum %a {equation = "ijk->i"} : (tensor<2x3xf32>) -> tensor<2xf32>
  func.return
}
// CHECK: term 'ijk' does not fit an operand of rank 2

// -----

func.func @case18(%x: tensor<1x2x5x5xf32>) {
  %0 = nn.lp_pool %x {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false, p = 0 : i64} : (tensor<1x2x5x5xf32>) -> tensor<1x2x4x4xf32>
  func.return
}
// CHECK: p must be >= 1, got 0

// -----

func.func @case19(%x: tensor<1x2x5x5xf32>, %s: tensor<3xf32>) {
  %0 = nn.instance_norm %x, %s, %s {epsilon = 1.0e-05 : f64} : (tensor<1x2x5x5xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x2x5x5xf32>
  func.return
}
// CHECK: per-channel operand of shape [3], expected [2]

// -----

func.func @case20(%x: tensor<1x2x5x5xf32>, %g: tensor<1x4x4x3xf32>) {
  %0 = nn.grid_sample %x, %g {mode = "linear", padding_mode = "zeros", align_corners = false} : (tensor<1x2x5x5xf32>, tensor<1x4x4x3xf32>) -> tensor<1x2x4x4xf32>
  func.return
}
// CHECK: grid [1,4,4,3] does not fit input [1,2,5,5]

// -----

func.func @case21(%x: tensor<1x2x5x5xf32>, %g: tensor<1x4x4x2xf32>) {
  %0 = nn.grid_sample %x, %g {mode = "linear", padding_mode = "mirror", align_corners = false} : (tensor<1x2x5x5xf32>, tensor<1x4x4x2xf32>) -> tensor<1x2x4x4xf32>
  func.return
}
// CHECK: unknown padding_mode 'mirror'

// -----

func.func @case22(%x: tensor<2x3xf32>) {
  %0 = nn.bitcast %x : (tensor<2x3xf32>) -> tensor<2x3xi16>
  func.return
}
// CHECK: bit widths differ: f32 and i16

// -----

func.func @case23(%x: tensor<2x3x4xf32>) {
  %0 = nn.det %x : (tensor<2x3x4xf32>) -> tensor<2xf32>
  func.return
}
// CHECK: input [2,3,4] is not a (batch of) square matrices

// -----

func.func @case24(%x: tensor<4x3xf32>, %l: tensor<4xi64>) {
  %0 = nn.reverse_sequence %x, %l {batch_axis = 1 : i64, time_axis = 0 : i64} : (tensor<4x3xf32>, tensor<4xi64>) -> tensor<4x3xf32>
  func.return
}
// CHECK: seq_lens of shape [4], expected [3]

// -----

func.func @case25(%q: tensor<1x2x4x8xf32>, %c: tensor<1x4x3xf32>) {
  %0 = nn.rotary_embedding %q, %c, %c {interleaved = false, num_heads = 0 : i64, rotary_dim = 8 : i64} : (tensor<1x2x4x8xf32>, tensor<1x4x3xf32>, tensor<1x4x3xf32>) -> tensor<1x2x4x8xf32>
  func.return
}
// CHECK: cos/sin of shape [1,4,3], expected [1,4,4]

// -----

func.func @case26(%s: tensor<2x8x1xf32>) {
  %0 = nn.dft %s {axis = 1 : i64, length = 8 : i64, inverse = false, onesided = false} : (tensor<2x8x1xf32>) -> tensor<2x5x2xf32>
  func.return
}
// CHECK: result shape [2,5,2], expected [2,8,2]

// -----

func.func @case27(%q: tensor<2x3x8xf32>, %k: tensor<2x3x4xf32>, %v: tensor<2x3x6xf32>, %s: tensor<2x1x4x6xf32>, %d: tensor<2x3x1xf32>) {
  %0, %1 = nn.linear_attention %q, %k, %v, %s, %d, %d {q_num_heads = 3 : i64, kv_num_heads = 2 : i64, scale = 0.5 : f64, update_rule = "linear"} : (tensor<2x3x8xf32>, tensor<2x3x4xf32>, tensor<2x3x6xf32>, tensor<2x1x4x6xf32>, tensor<2x3x1xf32>, tensor<2x3x1xf32>) -> (tensor<2x3x12xf32>, tensor<2x1x4x6xf32>)
  func.return
}
// CHECK: q_num_heads 3 must be a positive multiple of kv_num_heads 2

// -----

func.func @case28(%x: tensor<1x2x3x4xf32>, %s: tensor<2xf32>) {
  %0 = nn.resize_scaled %x, %s {mode = "linear", coordinate_transformation_mode = "half_pixel", nearest_mode = "floor", cubic_coeff_a = -0.75 : f64, exclude_outside = false} : (tensor<1x2x3x4xf32>, tensor<2xf32>) -> tensor<1x2x6x6xf32>
  func.return
}
// CHECK: scales need one value per input dim, got shape [2]

// -----

func.func @case29(%c: tensor<2x3x6x4xf32>, %u: tensor<2x3x7x4xf32>, %w: tensor<2xi64>) {
  %0 = nn.tensor_scatter %c, %u, %w {axis = 2 : i64, circular = false} : (tensor<2x3x6x4xf32>, tensor<2x3x7x4xf32>, tensor<2xi64>) -> tensor<2x3x6x4xf32>
  func.return
}
// CHECK: update [2,3,7,4] does not fit cache [2,3,6,4] along axis 2

// -----

func.func @case30(%x: tensor<1x2x4x4xf32>) {
  %0, %1 = nn.max_pool_indices %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false, storage_order = 0 : i64} : (tensor<1x2x4x4xf32>) -> (tensor<1x2x2x2xf32>, tensor<1x2x3x2xi64>)
  func.return
}
// CHECK: result shape [1,2,3,2], expected [1,2,2,2]

// -----

func.func @case31(%p: tensor<1x2x2x2xf32>, %i: tensor<1x2x2x2xi64>) {
  %0 = nn.max_unpool %p, %i {unpooled = array<i64: 1, 2, 4, 4>} : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xi64>) -> tensor<1x2x3x4xf32>
  func.return
}
// CHECK: unpooled [1,2,4,4] exceeds the result [1,2,3,4]

// -----

func.func @case32(%x: tensor<2x3x8x9xf32>, %r: tensor<4x4xf32>, %b: tensor<3xi64>) {
  %0 = nn.roi_align %x, %r, %b {mode = "avg", sampling_ratio = 2 : i64, spatial_scale = 0.5 : f64, half_pixel = true} : (tensor<2x3x8x9xf32>, tensor<4x4xf32>, tensor<3xi64>) -> tensor<4x3x3x4xf32>
  func.return
}
// CHECK: input [2,3,8,9], rois [4,4], batch_indices [3] must be [N, C, H, W], [R, 4], [R]

// -----

func.func @case33(%x: tensor<1x2x5x5xf32>, %w: tensor<3x2x3x3xf32>, %o: tensor<1x9x3x3xf32>, %b: tensor<3xf32>, %m: tensor<1x9x3x3xf32>) {
  %0 = nn.deform_conv %x, %w, %o, %b, %m {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, offset_group = 1 : i64} : (tensor<1x2x5x5xf32>, tensor<3x2x3x3xf32>, tensor<1x9x3x3xf32>, tensor<3xf32>, tensor<1x9x3x3xf32>) -> tensor<1x3x3x3xf32>
  func.return
}
// CHECK: offset [1,9,3,3] / mask [1,9,3,3] do not fit 1 offset groups of 9 taps over [3,3]

// -----

func.func @case34(%x: tensor<2x12x11xf32>) {
  %0 = nn.col2im %x {block = array<i64: 2, 3>, strides = array<i64: 2, 1>, pads = array<i64: 1, 0, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<2x12x11xf32>) -> tensor<2x2x5x5xf32>
  func.return
}
// CHECK: columns [2,12,11] do not fit image [2,2,5,5] with block [2, 3]
