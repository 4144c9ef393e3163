// RUN: h3pc-opt %s | filecheck %s
// RUN: %h3pc_roundtrip
// RUN: h3pc-opt %s --print-op-generic | filecheck %s --check-prefix=GENERIC

// The long tail of the standard domain: trigonometric and bitwise maps, parametrised activations, scans,
// selection, scatter, einsum, Lp pooling, instance norm, grid sampling, bit casts, determinants, sequence
// reversal, rotary embeddings, the DFT, linear attention, resizing by run-time scales, KV-cache writes,
// max pooling with indices and its inverse, RoiAlign, deformable convolution and col2im.

func.func @tail_unary(%x: tensor<2x3xf32>, %n: tensor<2x3xi32>) {
  %0 = nn.tan %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = nn.asin %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = nn.acos %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = nn.atan %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %4 = nn.sinh %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %5 = nn.cosh %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %6 = nn.asinh %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %7 = nn.acosh %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %8 = nn.atanh %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %9 = nn.softsign %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %10 = nn.mish %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %11 = nn.is_nan %x : (tensor<2x3xf32>) -> tensor<2x3xi1>
  %12 = nn.bitwise_not %n : (tensor<2x3xi32>) -> tensor<2x3xi32>
  %13 = nn.is_inf %x {detect_positive = true, detect_negative = false} : (tensor<2x3xf32>) -> tensor<2x3xi1>
  %14 = nn.selu %x {alpha = 1.5 : f64, gamma = 1.0 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %15 = nn.celu %x {alpha = 2.0 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %16 = nn.thresholded_relu %x {alpha = 0.5 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %17 = nn.shrink %x {bias = 0.5 : f64, lambd = 1.0 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %18 = nn.swish %x {alpha = 1.0 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}


// CHECK-LABEL: func.func @tail_unary(%x: tensor<2x3xf32>, %n: tensor<2x3xi32>) {
// CHECK-NEXT:  %{{.*}} = nn.tan %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.asin %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.acos %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.atan %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.sinh %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.cosh %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.asinh %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.acosh %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.atanh %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.softsign %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.mish %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.is_nan %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xi1>
// CHECK-NEXT:  %{{.*}} = nn.bitwise_not %{{.*}} : (tensor<2x3xi32>) -> tensor<2x3xi32>
// CHECK-NEXT:  %{{.*}} = nn.is_inf %{{.*}} {detect_positive = true, detect_negative = false} : (tensor<2x3xf32>) -> tensor<2x3xi1>
// CHECK-NEXT:  %{{.*}} = nn.selu %{{.*}} {alpha = 1.500000e+00 : f64, gamma = 1.000000e+00 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.celu %{{.*}} {alpha = 2.000000e+00 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.thresholded_relu %{{.*}} {alpha = 5.000000e-01 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.shrink %{{.*}} {bias = 5.000000e-01 : f64, lambd = 1.000000e+00 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.swish %{{.*}} {alpha = 1.000000e+00 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  func.return

// GENERIC-LABEL: "func.func"() <{sym_name = "tail_unary", function_type = (tensor<2x3xf32>, tensor<2x3xi32>) -> ()}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<2x3xf32>, %{{.*}}: tensor<2x3xi32>):
// GENERIC-NEXT:  %{{.*}} = "nn.tan"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.asin"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.acos"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.atan"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.sinh"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.cosh"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.asinh"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.acosh"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.atanh"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.softsign"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.mish"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.is_nan"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xi1>
// GENERIC-NEXT:  %{{.*}} = "nn.bitwise_not"(%{{.*}}) : (tensor<2x3xi32>) -> tensor<2x3xi32>
// GENERIC-NEXT:  %{{.*}} = "nn.is_inf"(%{{.*}}) <{detect_positive = true, detect_negative = false}> : (tensor<2x3xf32>) -> tensor<2x3xi1>
// GENERIC-NEXT:  %{{.*}} = "nn.selu"(%{{.*}}) <{alpha = 1.500000e+00 : f64, gamma = 1.000000e+00 : f64}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.celu"(%{{.*}}) <{alpha = 2.000000e+00 : f64}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.thresholded_relu"(%{{.*}}) <{alpha = 5.000000e-01 : f64}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.shrink"(%{{.*}}) <{bias = 5.000000e-01 : f64, lambd = 1.000000e+00 : f64}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.swish"(%{{.*}}) <{alpha = 1.000000e+00 : f64}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  "func.return"() : () -> ()

func.func @tail_binary(%a: tensor<2x3xi32>, %b: tensor<3xi32>, %x: tensor<2x3xf32>, %u: tensor<4xui8>) {
  %0 = nn.bitwise_and %a, %b : (tensor<2x3xi32>, tensor<3xi32>) -> tensor<2x3xi32>
  %1 = nn.bitwise_or %a, %b : (tensor<2x3xi32>, tensor<3xi32>) -> tensor<2x3xi32>
  %2 = nn.bitwise_xor %a, %b : (tensor<2x3xi32>, tensor<3xi32>) -> tensor<2x3xi32>
  %3 = nn.mod %a, %b {fmod = false} : (tensor<2x3xi32>, tensor<3xi32>) -> tensor<2x3xi32>
  %4 = nn.mod %x, %x {fmod = true} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %5 = nn.bit_shift %u, %u {direction = "left"} : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  func.return
}


// CHECK-LABEL: func.func @tail_binary(%a: tensor<2x3xi32>, %b: tensor<3xi32>, %x: tensor<2x3xf32>, %u: tensor<4xui8>) {
// CHECK-NEXT:  %{{.*}} = nn.bitwise_and %{{.*}}, %{{.*}} : (tensor<2x3xi32>, tensor<3xi32>) -> tensor<2x3xi32>
// CHECK-NEXT:  %{{.*}} = nn.bitwise_or %{{.*}}, %{{.*}} : (tensor<2x3xi32>, tensor<3xi32>) -> tensor<2x3xi32>
// CHECK-NEXT:  %{{.*}} = nn.bitwise_xor %{{.*}}, %{{.*}} : (tensor<2x3xi32>, tensor<3xi32>) -> tensor<2x3xi32>
// CHECK-NEXT:  %{{.*}} = nn.mod %{{.*}}, %{{.*}} {fmod = false} : (tensor<2x3xi32>, tensor<3xi32>) -> tensor<2x3xi32>
// CHECK-NEXT:  %{{.*}} = nn.mod %{{.*}}, %{{.*}} {fmod = true} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.bit_shift %{{.*}}, %{{.*}} {direction = "left"} : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
// CHECK-NEXT:  func.return

// GENERIC-LABEL: "func.func"() <{sym_name = "tail_binary", function_type = (tensor<2x3xi32>, tensor<3xi32>, tensor<2x3xf32>, tensor<4xui8>) -> ()}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<2x3xi32>, %{{.*}}: tensor<3xi32>, %{{.*}}: tensor<2x3xf32>, %{{.*}}: tensor<4xui8>):
// GENERIC-NEXT:  %{{.*}} = "nn.bitwise_and"(%{{.*}}, %{{.*}}) : (tensor<2x3xi32>, tensor<3xi32>) -> tensor<2x3xi32>
// GENERIC-NEXT:  %{{.*}} = "nn.bitwise_or"(%{{.*}}, %{{.*}}) : (tensor<2x3xi32>, tensor<3xi32>) -> tensor<2x3xi32>
// GENERIC-NEXT:  %{{.*}} = "nn.bitwise_xor"(%{{.*}}, %{{.*}}) : (tensor<2x3xi32>, tensor<3xi32>) -> tensor<2x3xi32>
// GENERIC-NEXT:  %{{.*}} = "nn.mod"(%{{.*}}, %{{.*}}) <{fmod = false}> : (tensor<2x3xi32>, tensor<3xi32>) -> tensor<2x3xi32>
// GENERIC-NEXT:  %{{.*}} = "nn.mod"(%{{.*}}, %{{.*}}) <{fmod = true}> : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.bit_shift"(%{{.*}}, %{{.*}}) <{direction = "left"}> : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
// GENERIC-NEXT:  "func.return"() : () -> ()

func.func @tail_axis(%x: tensor<2x3x4xf32>, %i: tensor<2x3xi64>, %v: tensor<2xf32>) {
  %0 = nn.hardmax %x {axis = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %1 = nn.lp_norm %x {axis = 2 : i64, p = 2 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %2 = nn.cumsum %x {axis = 2 : i64, exclusive = true, reverse = false} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %3 = nn.cumprod %x {axis = 0 : i64, exclusive = false, reverse = true} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %4 = nn.trilu %x {upper = false, k = -1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %5, %6 = nn.top_k %x {axis = 2 : i64, k = 2 : i64, largest = true} : (tensor<2x3x4xf32>) -> (tensor<2x3x2xf32>, tensor<2x3x2xi64>)
  %7 = nn.one_hot %i, %v {axis = 1 : i64, depth = 5 : i64} : (tensor<2x3xi64>, tensor<2xf32>) -> tensor<2x5x3xf32>
  func.return
}


// CHECK-LABEL: func.func @tail_axis(%x: tensor<2x3x4xf32>, %i: tensor<2x3xi64>, %v: tensor<2xf32>) {
// CHECK-NEXT:  %{{.*}} = nn.hardmax %{{.*}} {axis = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
// CHECK-NEXT:  %{{.*}} = nn.lp_norm %{{.*}} {axis = 2 : i64, p = 2 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
// CHECK-NEXT:  %{{.*}} = nn.cumsum %{{.*}} {axis = 2 : i64, exclusive = true, reverse = false} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
// CHECK-NEXT:  %{{.*}} = nn.cumprod %{{.*}} {axis = 0 : i64, exclusive = false, reverse = true} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
// CHECK-NEXT:  %{{.*}} = nn.trilu %{{.*}} {upper = false, k = -1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
// CHECK-NEXT:  %{{.*}}, %{{.*}} = nn.top_k %{{.*}} {axis = 2 : i64, k = 2 : i64, largest = true} : (tensor<2x3x4xf32>) -> (tensor<2x3x2xf32>, tensor<2x3x2xi64>)
// CHECK-NEXT:  %{{.*}} = nn.one_hot %{{.*}}, %{{.*}} {axis = 1 : i64, depth = 5 : i64} : (tensor<2x3xi64>, tensor<2xf32>) -> tensor<2x5x3xf32>
// CHECK-NEXT:  func.return

// GENERIC-LABEL: "func.func"() <{sym_name = "tail_axis", function_type = (tensor<2x3x4xf32>, tensor<2x3xi64>, tensor<2xf32>) -> ()}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<2x3x4xf32>, %{{.*}}: tensor<2x3xi64>, %{{.*}}: tensor<2xf32>):
// GENERIC-NEXT:  %{{.*}} = "nn.hardmax"(%{{.*}}) <{axis = 1 : i64}> : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.lp_norm"(%{{.*}}) <{axis = 2 : i64, p = 2 : i64}> : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.cumsum"(%{{.*}}) <{axis = 2 : i64, exclusive = true, reverse = false}> : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.cumprod"(%{{.*}}) <{axis = 0 : i64, exclusive = false, reverse = true}> : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.trilu"(%{{.*}}) <{upper = false, k = -1 : i64}> : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
// GENERIC-NEXT:  %{{.*}}, %{{.*}} = "nn.top_k"(%{{.*}}) <{axis = 2 : i64, k = 2 : i64, largest = true}> : (tensor<2x3x4xf32>) -> (tensor<2x3x2xf32>, tensor<2x3x2xi64>)
// GENERIC-NEXT:  %{{.*}} = "nn.one_hot"(%{{.*}}, %{{.*}}) <{axis = 1 : i64, depth = 5 : i64}> : (tensor<2x3xi64>, tensor<2xf32>) -> tensor<2x5x3xf32>
// GENERIC-NEXT:  "func.return"() : () -> ()

func.func @tail_scatter(%d: tensor<4x5xf32>, %i: tensor<2x5xi64>, %u: tensor<2x5xf32>, %n: tensor<3x1xi64>, %w: tensor<3x5xf32>) {
  %0 = nn.scatter_elements %d, %i, %u {axis = 0 : i64, reduction = "add"} : (tensor<4x5xf32>, tensor<2x5xi64>, tensor<2x5xf32>) -> tensor<4x5xf32>
  %1 = nn.scatter_nd %d, %n, %w {reduction = "none"} : (tensor<4x5xf32>, tensor<3x1xi64>, tensor<3x5xf32>) -> tensor<4x5xf32>
  func.return
}


// CHECK-LABEL: func.func @tail_scatter(%d: tensor<4x5xf32>, %i: tensor<2x5xi64>, %u: tensor<2x5xf32>, %n: tensor<3x1xi64>, %w: tensor<3x5xf32>) {
// CHECK-NEXT:  %{{.*}} = nn.scatter_elements %{{.*}}, %{{.*}}, %{{.*}} {axis = 0 : i64, reduction = "add"} : (tensor<4x5xf32>, tensor<2x5xi64>, tensor<2x5xf32>) -> tensor<4x5xf32>
// CHECK-NEXT:  %{{.*}} = nn.scatter_nd %{{.*}}, %{{.*}}, %{{.*}} {reduction = "none"} : (tensor<4x5xf32>, tensor<3x1xi64>, tensor<3x5xf32>) -> tensor<4x5xf32>
// CHECK-NEXT:  func.return

// GENERIC-LABEL: "func.func"() <{sym_name = "tail_scatter", function_type = (tensor<4x5xf32>, tensor<2x5xi64>, tensor<2x5xf32>, tensor<3x1xi64>, tensor<3x5xf32>) -> ()}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<4x5xf32>, %{{.*}}: tensor<2x5xi64>, %{{.*}}: tensor<2x5xf32>, %{{.*}}: tensor<3x1xi64>, %{{.*}}: tensor<3x5xf32>):
// GENERIC-NEXT:  %{{.*}} = "nn.scatter_elements"(%{{.*}}, %{{.*}}, %{{.*}}) <{axis = 0 : i64, reduction = "add"}> : (tensor<4x5xf32>, tensor<2x5xi64>, tensor<2x5xf32>) -> tensor<4x5xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.scatter_nd"(%{{.*}}, %{{.*}}, %{{.*}}) <{reduction = "none"}> : (tensor<4x5xf32>, tensor<3x1xi64>, tensor<3x5xf32>) -> tensor<4x5xf32>
// GENERIC-NEXT:  "func.return"() : () -> ()

func.func @tail_misc(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %x: tensor<1x2x5x5xf32>, %s: tensor<2xf32>, %g: tensor<1x4x4x2xf32>) {
  %0 = nn.einsum %a, %b {equation = "ij,jk->ik"} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %1 = nn.einsum %a {equation = "ij"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = nn.lp_pool %x {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false, p = 2 : i64} : (tensor<1x2x5x5xf32>) -> tensor<1x2x4x4xf32>
  %3 = nn.instance_norm %x, %s, %s {epsilon = 1.0e-05 : f64} : (tensor<1x2x5x5xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x5x5xf32>
  %4 = nn.grid_sample %x, %g {mode = "linear", padding_mode = "zeros", align_corners = false} : (tensor<1x2x5x5xf32>, tensor<1x4x4x2xf32>) -> tensor<1x2x4x4xf32>
  func.return
}


// CHECK-LABEL: func.func @tail_misc(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %x: tensor<1x2x5x5xf32>, %s: tensor<2xf32>, %g: tensor<1x4x4x2xf32>) {
// CHECK-NEXT:  %{{.*}} = nn.einsum %{{.*}}, %{{.*}} {equation = "ij,jk->ik"} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
// CHECK-NEXT:  %{{.*}} = nn.einsum %{{.*}} {equation = "ij"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.lp_pool %{{.*}} {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false, p = 2 : i64} : (tensor<1x2x5x5xf32>) -> tensor<1x2x4x4xf32>
// CHECK-NEXT:  %{{.*}} = nn.instance_norm %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 1.000000e-05 : f64} : (tensor<1x2x5x5xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x5x5xf32>
// CHECK-NEXT:  %{{.*}} = nn.grid_sample %{{.*}}, %{{.*}} {mode = "linear", padding_mode = "zeros", align_corners = false} : (tensor<1x2x5x5xf32>, tensor<1x4x4x2xf32>) -> tensor<1x2x4x4xf32>
// CHECK-NEXT:  func.return

// GENERIC-LABEL: "func.func"() <{sym_name = "tail_misc", function_type = (tensor<2x3xf32>, tensor<3x4xf32>, tensor<1x2x5x5xf32>, tensor<2xf32>, tensor<1x4x4x2xf32>) -> ()}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<2x3xf32>, %{{.*}}: tensor<3x4xf32>, %{{.*}}: tensor<1x2x5x5xf32>, %{{.*}}: tensor<2xf32>, %{{.*}}: tensor<1x4x4x2xf32>):
// GENERIC-NEXT:  %{{.*}} = "nn.einsum"(%{{.*}}, %{{.*}}) <{equation = "ij,jk->ik"}> : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.einsum"(%{{.*}}) <{equation = "ij"}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.lp_pool"(%{{.*}}) <{kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false, p = 2 : i64}> : (tensor<1x2x5x5xf32>) -> tensor<1x2x4x4xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.instance_norm"(%{{.*}}, %{{.*}}, %{{.*}}) <{epsilon = 1.000000e-05 : f64}> : (tensor<1x2x5x5xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x5x5xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.grid_sample"(%{{.*}}, %{{.*}}) <{mode = "linear", padding_mode = "zeros", align_corners = false}> : (tensor<1x2x5x5xf32>, tensor<1x4x4x2xf32>) -> tensor<1x2x4x4xf32>
// GENERIC-NEXT:  "func.return"() : () -> ()

func.func @tail_more(%x: tensor<2x3x3xf32>, %l: tensor<3xi64>, %q: tensor<1x2x4x8xf32>, %c: tensor<1x4x4xf32>, %s: tensor<2x8x1xf32>) {
  %0 = nn.bitcast %x : (tensor<2x3x3xf32>) -> tensor<2x3x3xi32>
  %1 = nn.det %x : (tensor<2x3x3xf32>) -> tensor<2xf32>
  %2 = nn.reverse_sequence %x, %l {batch_axis = 1 : i64, time_axis = 0 : i64} : (tensor<2x3x3xf32>, tensor<3xi64>) -> tensor<2x3x3xf32>
  %3 = nn.rotary_embedding %q, %c, %c {interleaved = false, num_heads = 0 : i64, rotary_dim = 8 : i64} : (tensor<1x2x4x8xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>) -> tensor<1x2x4x8xf32>
  %4 = nn.dft %s {axis = 1 : i64, length = 8 : i64, inverse = false, onesided = true} : (tensor<2x8x1xf32>) -> tensor<2x5x2xf32>
  func.return
}


// CHECK-LABEL: func.func @tail_more(%x: tensor<2x3x3xf32>, %l: tensor<3xi64>, %q: tensor<1x2x4x8xf32>, %c: tensor<1x4x4xf32>, %s: tensor<2x8x1xf32>) {
// CHECK-NEXT:  %{{.*}} = nn.bitcast %{{.*}} : (tensor<2x3x3xf32>) -> tensor<2x3x3xi32>
// CHECK-NEXT:  %{{.*}} = nn.det %{{.*}} : (tensor<2x3x3xf32>) -> tensor<2xf32>
// CHECK-NEXT:  %{{.*}} = nn.reverse_sequence %{{.*}}, %{{.*}} {batch_axis = 1 : i64, time_axis = 0 : i64} : (tensor<2x3x3xf32>, tensor<3xi64>) -> tensor<2x3x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.rotary_embedding %{{.*}}, %{{.*}}, %{{.*}} {interleaved = false, num_heads = 0 : i64, rotary_dim = 8 : i64} : (tensor<1x2x4x8xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>) -> tensor<1x2x4x8xf32>
// CHECK-NEXT:  %{{.*}} = nn.dft %{{.*}} {axis = 1 : i64, length = 8 : i64, inverse = false, onesided = true} : (tensor<2x8x1xf32>) -> tensor<2x5x2xf32>
// CHECK-NEXT:  func.return

// GENERIC-LABEL: "func.func"() <{sym_name = "tail_more", function_type = (tensor<2x3x3xf32>, tensor<3xi64>, tensor<1x2x4x8xf32>, tensor<1x4x4xf32>, tensor<2x8x1xf32>) -> ()}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<2x3x3xf32>, %{{.*}}: tensor<3xi64>, %{{.*}}: tensor<1x2x4x8xf32>, %{{.*}}: tensor<1x4x4xf32>, %{{.*}}: tensor<2x8x1xf32>):
// GENERIC-NEXT:  %{{.*}} = "nn.bitcast"(%{{.*}}) : (tensor<2x3x3xf32>) -> tensor<2x3x3xi32>
// GENERIC-NEXT:  %{{.*}} = "nn.det"(%{{.*}}) : (tensor<2x3x3xf32>) -> tensor<2xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.reverse_sequence"(%{{.*}}, %{{.*}}) <{batch_axis = 1 : i64, time_axis = 0 : i64}> : (tensor<2x3x3xf32>, tensor<3xi64>) -> tensor<2x3x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.rotary_embedding"(%{{.*}}, %{{.*}}, %{{.*}}) <{interleaved = false, num_heads = 0 : i64, rotary_dim = 8 : i64}> : (tensor<1x2x4x8xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>) -> tensor<1x2x4x8xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.dft"(%{{.*}}) <{axis = 1 : i64, length = 8 : i64, inverse = false, onesided = true}> : (tensor<2x8x1xf32>) -> tensor<2x5x2xf32>
// GENERIC-NEXT:  "func.return"() : () -> ()

func.func @tail_linear_attention(%q: tensor<2x3x8xf32>, %k: tensor<2x3x4xf32>, %v: tensor<2x3x6xf32>, %s: tensor<2x1x4x6xf32>, %d: tensor<2x3x1xf32>) {
  %0, %1 = nn.linear_attention %q, %k, %v, %s, %d, %d {q_num_heads = 2 : i64, kv_num_heads = 1 : i64, scale = 0.5 : f64, update_rule = "gated_delta"} : (tensor<2x3x8xf32>, tensor<2x3x4xf32>, tensor<2x3x6xf32>, tensor<2x1x4x6xf32>, tensor<2x3x1xf32>, tensor<2x3x1xf32>) -> (tensor<2x3x12xf32>, tensor<2x1x4x6xf32>)
  func.return
}


// CHECK-LABEL: func.func @tail_linear_attention(%q: tensor<2x3x8xf32>, %k: tensor<2x3x4xf32>, %v: tensor<2x3x6xf32>, %s: tensor<2x1x4x6xf32>, %d: tensor<2x3x1xf32>) {
// CHECK-NEXT:  %{{.*}}, %{{.*}} = nn.linear_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {q_num_heads = 2 : i64, kv_num_heads = 1 : i64, scale = 5.000000e-01 : f64, update_rule = "gated_delta"} : (tensor<2x3x8xf32>, tensor<2x3x4xf32>, tensor<2x3x6xf32>, tensor<2x1x4x6xf32>, tensor<2x3x1xf32>, tensor<2x3x1xf32>) -> (tensor<2x3x12xf32>, tensor<2x1x4x6xf32>)
// CHECK-NEXT:  func.return

// GENERIC-LABEL: "func.func"() <{sym_name = "tail_linear_attention", function_type = (tensor<2x3x8xf32>, tensor<2x3x4xf32>, tensor<2x3x6xf32>, tensor<2x1x4x6xf32>, tensor<2x3x1xf32>) -> ()}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<2x3x8xf32>, %{{.*}}: tensor<2x3x4xf32>, %{{.*}}: tensor<2x3x6xf32>, %{{.*}}: tensor<2x1x4x6xf32>, %{{.*}}: tensor<2x3x1xf32>):
// GENERIC-NEXT:  %{{.*}}, %{{.*}} = "nn.linear_attention"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{q_num_heads = 2 : i64, kv_num_heads = 1 : i64, scale = 5.000000e-01 : f64, update_rule = "gated_delta"}> : (tensor<2x3x8xf32>, tensor<2x3x4xf32>, tensor<2x3x6xf32>, tensor<2x1x4x6xf32>, tensor<2x3x1xf32>, tensor<2x3x1xf32>) -> (tensor<2x3x12xf32>, tensor<2x1x4x6xf32>)
// GENERIC-NEXT:  "func.return"() : () -> ()

func.func @tail_resize_scaled(%x: tensor<1x2x3x4xf32>, %s: tensor<4xf32>) {
  %0 = nn.resize_scaled %x, %s {mode = "linear", coordinate_transformation_mode = "half_pixel", nearest_mode = "floor", cubic_coeff_a = -0.75 : f64, exclude_outside = false} : (tensor<1x2x3x4xf32>, tensor<4xf32>) -> tensor<1x2x6x6xf32>
  func.return
}


// CHECK-LABEL: func.func @tail_resize_scaled(%x: tensor<1x2x3x4xf32>, %s: tensor<4xf32>) {
// CHECK-NEXT:  %{{.*}} = nn.resize_scaled %{{.*}}, %{{.*}} {mode = "linear", coordinate_transformation_mode = "half_pixel", nearest_mode = "floor", cubic_coeff_a = -7.500000e-01 : f64, exclude_outside = false} : (tensor<1x2x3x4xf32>, tensor<4xf32>) -> tensor<1x2x6x6xf32>
// CHECK-NEXT:  func.return

// GENERIC-LABEL: "func.func"() <{sym_name = "tail_resize_scaled", function_type = (tensor<1x2x3x4xf32>, tensor<4xf32>) -> ()}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<1x2x3x4xf32>, %{{.*}}: tensor<4xf32>):
// GENERIC-NEXT:  %{{.*}} = "nn.resize_scaled"(%{{.*}}, %{{.*}}) <{mode = "linear", coordinate_transformation_mode = "half_pixel", nearest_mode = "floor", cubic_coeff_a = -7.500000e-01 : f64, exclude_outside = false}> : (tensor<1x2x3x4xf32>, tensor<4xf32>) -> tensor<1x2x6x6xf32>
// GENERIC-NEXT:  "func.return"() : () -> ()

func.func @tail_tensor_scatter(%c: tensor<2x3x6x4xf32>, %u: tensor<2x3x2x4xf32>, %w: tensor<2xi64>) {
  %0 = nn.tensor_scatter %c, %u, %w {axis = 2 : i64, circular = true} : (tensor<2x3x6x4xf32>, tensor<2x3x2x4xf32>, tensor<2xi64>) -> tensor<2x3x6x4xf32>
  func.return
}


// CHECK-LABEL: func.func @tail_tensor_scatter(%c: tensor<2x3x6x4xf32>, %u: tensor<2x3x2x4xf32>, %w: tensor<2xi64>) {
// CHECK-NEXT:  %{{.*}} = nn.tensor_scatter %{{.*}}, %{{.*}}, %{{.*}} {axis = 2 : i64, circular = true} : (tensor<2x3x6x4xf32>, tensor<2x3x2x4xf32>, tensor<2xi64>) -> tensor<2x3x6x4xf32>
// CHECK-NEXT:  func.return

// GENERIC-LABEL: "func.func"() <{sym_name = "tail_tensor_scatter", function_type = (tensor<2x3x6x4xf32>, tensor<2x3x2x4xf32>, tensor<2xi64>) -> ()}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<2x3x6x4xf32>, %{{.*}}: tensor<2x3x2x4xf32>, %{{.*}}: tensor<2xi64>):
// GENERIC-NEXT:  %{{.*}} = "nn.tensor_scatter"(%{{.*}}, %{{.*}}, %{{.*}}) <{axis = 2 : i64, circular = true}> : (tensor<2x3x6x4xf32>, tensor<2x3x2x4xf32>, tensor<2xi64>) -> tensor<2x3x6x4xf32>
// GENERIC-NEXT:  "func.return"() : () -> ()

func.func @tail_unpool(%x: tensor<1x2x4x4xf32>, %p: tensor<1x2x2x2xf32>, %i: tensor<1x2x2x2xi64>) {
  %0, %1 = nn.max_pool_indices %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false, storage_order = 0 : i64} : (tensor<1x2x4x4xf32>) -> (tensor<1x2x2x2xf32>, tensor<1x2x2x2xi64>)
  %2 = nn.max_unpool %p, %i {unpooled = array<i64: 1, 2, 4, 4>} : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xi64>) -> tensor<1x2x4x4xf32>
  func.return
}


// CHECK-LABEL: func.func @tail_unpool(%x: tensor<1x2x4x4xf32>, %p: tensor<1x2x2x2xf32>, %i: tensor<1x2x2x2xi64>) {
// CHECK-NEXT:  %{{.*}}, %{{.*}} = nn.max_pool_indices %{{.*}} {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false, storage_order = 0 : i64} : (tensor<1x2x4x4xf32>) -> (tensor<1x2x2x2xf32>, tensor<1x2x2x2xi64>)
// CHECK-NEXT:  %{{.*}} = nn.max_unpool %{{.*}}, %{{.*}} {unpooled = array<i64: 1, 2, 4, 4>} : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xi64>) -> tensor<1x2x4x4xf32>
// CHECK-NEXT:  func.return

// GENERIC-LABEL: "func.func"() <{sym_name = "tail_unpool", function_type = (tensor<1x2x4x4xf32>, tensor<1x2x2x2xf32>, tensor<1x2x2x2xi64>) -> ()}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<1x2x4x4xf32>, %{{.*}}: tensor<1x2x2x2xf32>, %{{.*}}: tensor<1x2x2x2xi64>):
// GENERIC-NEXT:  %{{.*}}, %{{.*}} = "nn.max_pool_indices"(%{{.*}}) <{kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false, storage_order = 0 : i64}> : (tensor<1x2x4x4xf32>) -> (tensor<1x2x2x2xf32>, tensor<1x2x2x2xi64>)
// GENERIC-NEXT:  %{{.*}} = "nn.max_unpool"(%{{.*}}, %{{.*}}) <{unpooled = array<i64: 1, 2, 4, 4>}> : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xi64>) -> tensor<1x2x4x4xf32>
// GENERIC-NEXT:  "func.return"() : () -> ()

func.func @tail_roi_align(%x: tensor<2x3x8x9xf32>, %r: tensor<4x4xf32>, %b: tensor<4xi64>) {
  %0 = nn.roi_align %x, %r, %b {mode = "avg", sampling_ratio = 2 : i64, spatial_scale = 0.5 : f64, half_pixel = true} : (tensor<2x3x8x9xf32>, tensor<4x4xf32>, tensor<4xi64>) -> tensor<4x3x3x4xf32>
  func.return
}


// CHECK-LABEL: func.func @tail_roi_align(%x: tensor<2x3x8x9xf32>, %r: tensor<4x4xf32>, %b: tensor<4xi64>) {
// CHECK-NEXT:  %{{.*}} = nn.roi_align %{{.*}}, %{{.*}}, %{{.*}} {mode = "avg", sampling_ratio = 2 : i64, spatial_scale = 5.000000e-01 : f64, half_pixel = true} : (tensor<2x3x8x9xf32>, tensor<4x4xf32>, tensor<4xi64>) -> tensor<4x3x3x4xf32>
// CHECK-NEXT:  func.return

// GENERIC-LABEL: "func.func"() <{sym_name = "tail_roi_align", function_type = (tensor<2x3x8x9xf32>, tensor<4x4xf32>, tensor<4xi64>) -> ()}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<2x3x8x9xf32>, %{{.*}}: tensor<4x4xf32>, %{{.*}}: tensor<4xi64>):
// GENERIC-NEXT:  %{{.*}} = "nn.roi_align"(%{{.*}}, %{{.*}}, %{{.*}}) <{mode = "avg", sampling_ratio = 2 : i64, spatial_scale = 5.000000e-01 : f64, half_pixel = true}> : (tensor<2x3x8x9xf32>, tensor<4x4xf32>, tensor<4xi64>) -> tensor<4x3x3x4xf32>
// GENERIC-NEXT:  "func.return"() : () -> ()

func.func @tail_deform_conv(%x: tensor<1x2x5x5xf32>, %w: tensor<3x2x3x3xf32>, %o: tensor<1x18x3x3xf32>, %b: tensor<3xf32>, %m: tensor<1x9x3x3xf32>) {
  %0 = nn.deform_conv %x, %w, %o, %b, %m {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, offset_group = 1 : i64} : (tensor<1x2x5x5xf32>, tensor<3x2x3x3xf32>, tensor<1x18x3x3xf32>, tensor<3xf32>, tensor<1x9x3x3xf32>) -> tensor<1x3x3x3xf32>
  func.return
}


// CHECK-LABEL: func.func @tail_deform_conv(%x: tensor<1x2x5x5xf32>, %w: tensor<3x2x3x3xf32>, %o: tensor<1x18x3x3xf32>, %b: tensor<3xf32>, %m: tensor<1x9x3x3xf32>) {
// CHECK-NEXT:  %{{.*}} = nn.deform_conv %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, offset_group = 1 : i64} : (tensor<1x2x5x5xf32>, tensor<3x2x3x3xf32>, tensor<1x18x3x3xf32>, tensor<3xf32>, tensor<1x9x3x3xf32>) -> tensor<1x3x3x3xf32>
// CHECK-NEXT:  func.return

// GENERIC-LABEL: "func.func"() <{sym_name = "tail_deform_conv", function_type = (tensor<1x2x5x5xf32>, tensor<3x2x3x3xf32>, tensor<1x18x3x3xf32>, tensor<3xf32>, tensor<1x9x3x3xf32>) -> ()}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<1x2x5x5xf32>, %{{.*}}: tensor<3x2x3x3xf32>, %{{.*}}: tensor<1x18x3x3xf32>, %{{.*}}: tensor<3xf32>, %{{.*}}: tensor<1x9x3x3xf32>):
// GENERIC-NEXT:  %{{.*}} = "nn.deform_conv"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, offset_group = 1 : i64}> : (tensor<1x2x5x5xf32>, tensor<3x2x3x3xf32>, tensor<1x18x3x3xf32>, tensor<3xf32>, tensor<1x9x3x3xf32>) -> tensor<1x3x3x3xf32>
// GENERIC-NEXT:  "func.return"() : () -> ()

func.func @tail_col2im(%x: tensor<2x12x12xf32>) {
  %0 = nn.col2im %x {block = array<i64: 2, 3>, strides = array<i64: 2, 1>, pads = array<i64: 1, 0, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<2x12x12xf32>) -> tensor<2x2x5x5xf32>
  func.return
}

// CHECK-LABEL: func.func @tail_col2im(%x: tensor<2x12x12xf32>) {
// CHECK-NEXT:  %{{.*}} = nn.col2im %{{.*}} {block = array<i64: 2, 3>, strides = array<i64: 2, 1>, pads = array<i64: 1, 0, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<2x12x12xf32>) -> tensor<2x2x5x5xf32>
// CHECK-NEXT:  func.return

// GENERIC-LABEL: "func.func"() <{sym_name = "tail_col2im", function_type = (tensor<2x12x12xf32>) -> ()}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<2x12x12xf32>):
// GENERIC-NEXT:  %{{.*}} = "nn.col2im"(%{{.*}}) <{block = array<i64: 2, 3>, strides = array<i64: 2, 1>, pads = array<i64: 1, 0, 1, 1>, dilations = array<i64: 1, 1>}> : (tensor<2x12x12xf32>) -> tensor<2x2x5x5xf32>
// GENERIC-NEXT:  "func.return"() : () -> ()
