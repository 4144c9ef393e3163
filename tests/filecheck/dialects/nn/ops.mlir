// RUN: h3pc-opt %s | filecheck %s
// RUN: %h3pc_roundtrip
// RUN: h3pc-opt %s --print-op-generic | filecheck %s --check-prefix=GENERIC

func.func @constants() -> (tensor<2x2xf32>, tensor<4x3xf32>, tensor<3xi64>) {
  %a = nn.constant {value = dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>} : tensor<2x2xf32>
  %b = nn.constant {value = dense_resource<fc_weight> : tensor<4x3xf32>} : tensor<4x3xf32>
  %c = nn.constant {value = dense<[0, 1, 2]> : tensor<3xi64>} : tensor<3xi64>
  func.return %a, %b, %c : tensor<2x2xf32>, tensor<4x3xf32>, tensor<3xi64>
}

// CHECK-LABEL: func.func @constants() -> (tensor<2x2xf32>, tensor<4x3xf32>, tensor<3xi64>) {
// CHECK-NEXT:  %{{.*}} = nn.constant {value = dense<{{\[\[}}1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>} : tensor<2x2xf32>
// CHECK-NEXT:  %{{.*}} = nn.constant {value = dense_resource<fc_weight> : tensor<4x3xf32>} : tensor<4x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.constant {value = dense<[0, 1, 2]> : tensor<3xi64>} : tensor<3xi64>
// CHECK-NEXT:  func.return %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x2xf32>, tensor<4x3xf32>, tensor<3xi64>

// GENERIC-LABEL: "func.func"() <{sym_name = "constants", function_type = () -> (tensor<2x2xf32>, tensor<4x3xf32>, tensor<3xi64>)}> ({
// GENERIC-NEXT:  %{{.*}} = "nn.constant"() <{value = dense<{{\[\[}}1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>}> : () -> tensor<2x2xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.constant"() <{value = dense_resource<fc_weight> : tensor<4x3xf32>}> : () -> tensor<4x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.constant"() <{value = dense<[0, 1, 2]> : tensor<3xi64>}> : () -> tensor<3xi64>
// GENERIC-NEXT:  "func.return"(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<2x2xf32>, tensor<4x3xf32>, tensor<3xi64>) -> ()

func.func @unary(%x: tensor<2x3xf32>, %m: tensor<2x3xi1>) {
  %0 = nn.neg %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = nn.abs %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = nn.reciprocal %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = nn.sqrt %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %4 = nn.exp %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %5 = nn.log %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %6 = nn.erf %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %7 = nn.tanh %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %8 = nn.sigmoid %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %9 = nn.relu %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %10 = nn.not %m : (tensor<2x3xi1>) -> tensor<2x3xi1>
  %11 = nn.floor %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %12 = nn.ceil %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %13 = nn.round %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %14 = nn.sign %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %15 = nn.sin %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %16 = nn.cos %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %17 = nn.softplus %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %18 = nn.hard_swish %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %19 = nn.cast %x : (tensor<2x3xf32>) -> tensor<2x3xf16>
  %20 = nn.leaky_relu %x {alpha = 1.000000e-02 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %21 = nn.elu %x {alpha = 1.000000e+00 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %22 = nn.hard_sigmoid %x {alpha = 2.000000e-01 : f64, beta = 5.000000e-01 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %23 = nn.clip %x {min = 0.000000e+00 : f64, max = 6.000000e+00 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %24 = nn.clip %x {max = 6.000000e+00 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %25 = nn.clip %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %26 = nn.gelu %x {approximate = "none"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %27 = nn.gelu %x {approximate = "tanh"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// CHECK-LABEL: func.func @unary(%{{.*}}: tensor<2x3xf32>, %{{.*}}: tensor<2x3xi1>) {
// CHECK-NEXT:  %{{.*}} = nn.neg %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.abs %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.reciprocal %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.sqrt %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.exp %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.log %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.erf %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.tanh %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.sigmoid %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.relu %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.not %{{.*}} : (tensor<2x3xi1>) -> tensor<2x3xi1>
// CHECK-NEXT:  %{{.*}} = nn.floor %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.ceil %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.round %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.sign %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.sin %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.cos %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.softplus %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.hard_swish %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.cast %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf16>
// CHECK-NEXT:  %{{.*}} = nn.leaky_relu %{{.*}} {alpha = 1.000000e-02 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.elu %{{.*}} {alpha = 1.000000e+00 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.hard_sigmoid %{{.*}} {alpha = 2.000000e-01 : f64, beta = 5.000000e-01 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.clip %{{.*}} {min = 0.000000e+00 : f64, max = 6.000000e+00 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.clip %{{.*}} {max = 6.000000e+00 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.clip %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.gelu %{{.*}} {approximate = "none"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.gelu %{{.*}} {approximate = "tanh"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  func.return

// GENERIC-LABEL: "func.func"() <{sym_name = "unary", function_type = (tensor<2x3xf32>, tensor<2x3xi1>) -> ()}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<2x3xf32>, %{{.*}}: tensor<2x3xi1>):
// GENERIC-NEXT:  %{{.*}} = "nn.neg"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.abs"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.reciprocal"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.sqrt"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.exp"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.log"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.erf"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.tanh"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.sigmoid"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.relu"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.not"(%{{.*}}) : (tensor<2x3xi1>) -> tensor<2x3xi1>
// GENERIC-NEXT:  %{{.*}} = "nn.floor"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.ceil"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.round"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.sign"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.sin"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.cos"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.softplus"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.hard_swish"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.cast"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf16>
// GENERIC-NEXT:  %{{.*}} = "nn.leaky_relu"(%{{.*}}) <{alpha = 1.000000e-02 : f64}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.elu"(%{{.*}}) <{alpha = 1.000000e+00 : f64}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.hard_sigmoid"(%{{.*}}) <{alpha = 2.000000e-01 : f64, beta = 5.000000e-01 : f64}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.clip"(%{{.*}}) <{min = 0.000000e+00 : f64, max = 6.000000e+00 : f64}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.clip"(%{{.*}}) <{max = 6.000000e+00 : f64}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.clip"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.gelu"(%{{.*}}) <{approximate = "none"}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.gelu"(%{{.*}}) <{approximate = "tanh"}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  "func.return"() : () -> ()

func.func @binary(%a: tensor<2x3xf32>, %b: tensor<3xf32>, %p: tensor<2x3xi1>, %q: tensor<1x3xi1>, %s: tensor<1xf32>) {
  %0 = nn.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %1 = nn.sub %a, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = nn.mul %b, %a : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = nn.div %a, %s : (tensor<2x3xf32>, tensor<1xf32>) -> tensor<2x3xf32>
  %4 = nn.pow %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %5 = nn.prelu %a, %s : (tensor<2x3xf32>, tensor<1xf32>) -> tensor<2x3xf32>
  %6 = nn.and %p, %q : (tensor<2x3xi1>, tensor<1x3xi1>) -> tensor<2x3xi1>
  %7 = nn.or %p, %q : (tensor<2x3xi1>, tensor<1x3xi1>) -> tensor<2x3xi1>
  %8 = nn.xor %p, %p : (tensor<2x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
  %9 = nn.equal %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  %10 = nn.less %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  %11 = nn.less_equal %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  %12 = nn.greater %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  %13 = nn.greater_equal %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  %14 = nn.max %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %15 = nn.min %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %16 = nn.sum %a, %b, %s : (tensor<2x3xf32>, tensor<3xf32>, tensor<1xf32>) -> tensor<2x3xf32>
  %17 = nn.mean %a, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %18 = nn.where %q, %a, %b : (tensor<1x3xi1>, tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  func.return
}

// CHECK-LABEL: func.func @binary(%{{.*}}: tensor<2x3xf32>, %{{.*}}: tensor<3xf32>, %{{.*}}: tensor<2x3xi1>, %{{.*}}: tensor<1x3xi1>, %{{.*}}: tensor<1xf32>) {
// CHECK-NEXT:  %{{.*}} = nn.add %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.sub %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.mul %{{.*}}, %{{.*}} : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.div %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<1xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.pow %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.prelu %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<1xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.and %{{.*}}, %{{.*}} : (tensor<2x3xi1>, tensor<1x3xi1>) -> tensor<2x3xi1>
// CHECK-NEXT:  %{{.*}} = nn.or %{{.*}}, %{{.*}} : (tensor<2x3xi1>, tensor<1x3xi1>) -> tensor<2x3xi1>
// CHECK-NEXT:  %{{.*}} = nn.xor %{{.*}}, %{{.*}} : (tensor<2x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
// CHECK-NEXT:  %{{.*}} = nn.equal %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
// CHECK-NEXT:  %{{.*}} = nn.less %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
// CHECK-NEXT:  %{{.*}} = nn.less_equal %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
// CHECK-NEXT:  %{{.*}} = nn.greater %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
// CHECK-NEXT:  %{{.*}} = nn.greater_equal %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
// CHECK-NEXT:  %{{.*}} = nn.max %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.min %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.sum %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<3xf32>, tensor<1xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.mean %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.where %{{.*}}, %{{.*}}, %{{.*}} : (tensor<1x3xi1>, tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  func.return

// GENERIC-LABEL: "func.func"() <{sym_name = "binary", function_type = (tensor<2x3xf32>, tensor<3xf32>, tensor<2x3xi1>, tensor<1x3xi1>, tensor<1xf32>) -> ()}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<2x3xf32>, %{{.*}}: tensor<3xf32>, %{{.*}}: tensor<2x3xi1>, %{{.*}}: tensor<1x3xi1>, %{{.*}}: tensor<1xf32>):
// GENERIC-NEXT:  %{{.*}} = "nn.add"(%{{.*}}, %{{.*}}) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.sub"(%{{.*}}, %{{.*}}) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.mul"(%{{.*}}, %{{.*}}) : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.div"(%{{.*}}, %{{.*}}) : (tensor<2x3xf32>, tensor<1xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.pow"(%{{.*}}, %{{.*}}) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.prelu"(%{{.*}}, %{{.*}}) : (tensor<2x3xf32>, tensor<1xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.and"(%{{.*}}, %{{.*}}) : (tensor<2x3xi1>, tensor<1x3xi1>) -> tensor<2x3xi1>
// GENERIC-NEXT:  %{{.*}} = "nn.or"(%{{.*}}, %{{.*}}) : (tensor<2x3xi1>, tensor<1x3xi1>) -> tensor<2x3xi1>
// GENERIC-NEXT:  %{{.*}} = "nn.xor"(%{{.*}}, %{{.*}}) : (tensor<2x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
// GENERIC-NEXT:  %{{.*}} = "nn.equal"(%{{.*}}, %{{.*}}) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
// GENERIC-NEXT:  %{{.*}} = "nn.less"(%{{.*}}, %{{.*}}) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
// GENERIC-NEXT:  %{{.*}} = "nn.less_equal"(%{{.*}}, %{{.*}}) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
// GENERIC-NEXT:  %{{.*}} = "nn.greater"(%{{.*}}, %{{.*}}) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
// GENERIC-NEXT:  %{{.*}} = "nn.greater_equal"(%{{.*}}, %{{.*}}) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
// GENERIC-NEXT:  %{{.*}} = "nn.max"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.min"(%{{.*}}, %{{.*}}) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.sum"(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<2x3xf32>, tensor<3xf32>, tensor<1xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.mean"(%{{.*}}, %{{.*}}) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.where"(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<1x3xi1>, tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  "func.return"() : () -> ()

func.func @gemm_like(%x: tensor<2x4xf32>, %w: tensor<4x3xf32>, %wt: tensor<3x4xf32>, %c: tensor<3xf32>, %bx: tensor<5x2x4xf32>, %v: tensor<4xf32>) {
  %0 = nn.matmul %x, %w : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  %1 = nn.matmul %bx, %w : (tensor<5x2x4xf32>, tensor<4x3xf32>) -> tensor<5x2x3xf32>
  %2 = nn.matmul %x, %v : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2xf32>
  %3 = "nn.gemm"(%x, %wt, %c) <{alpha = 1.000000e+00 : f64, beta = 1.000000e+00 : f64, trans_a = false, trans_b = true, operandSegmentSizes = array<i32: 1, 1, 1>}> : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %4 = "nn.gemm"(%x, %w) <{alpha = 5.000000e-01 : f64, beta = 0.000000e+00 : f64, trans_a = false, trans_b = false, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  func.return
}

// CHECK-LABEL: func.func @gemm_like(%{{.*}}: tensor<2x4xf32>, %{{.*}}: tensor<4x3xf32>, %{{.*}}: tensor<3x4xf32>, %{{.*}}: tensor<3xf32>, %{{.*}}: tensor<5x2x4xf32>, %{{.*}}: tensor<4xf32>) {
// CHECK-NEXT:  %{{.*}} = nn.matmul %{{.*}}, %{{.*}} : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.matmul %{{.*}}, %{{.*}} : (tensor<5x2x4xf32>, tensor<4x3xf32>) -> tensor<5x2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.matmul %{{.*}}, %{{.*}} : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2xf32>
// CHECK-NEXT:  %{{.*}} = "nn.gemm"(%{{.*}}, %{{.*}}, %{{.*}}) <{alpha = 1.000000e+00 : f64, beta = 1.000000e+00 : f64, trans_a = false, trans_b = true, operandSegmentSizes = array<i32: 1, 1, 1>}> : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = "nn.gemm"(%{{.*}}, %{{.*}}) <{alpha = 5.000000e-01 : f64, beta = 0.000000e+00 : f64, trans_a = false, trans_b = false, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  func.return

// GENERIC-LABEL: "func.func"() <{sym_name = "gemm_like", function_type = (tensor<2x4xf32>, tensor<4x3xf32>, tensor<3x4xf32>, tensor<3xf32>, tensor<5x2x4xf32>, tensor<4xf32>) -> ()}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<2x4xf32>, %{{.*}}: tensor<4x3xf32>, %{{.*}}: tensor<3x4xf32>, %{{.*}}: tensor<3xf32>, %{{.*}}: tensor<5x2x4xf32>, %{{.*}}: tensor<4xf32>):
// GENERIC-NEXT:  %{{.*}} = "nn.matmul"(%{{.*}}, %{{.*}}) : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.matmul"(%{{.*}}, %{{.*}}) : (tensor<5x2x4xf32>, tensor<4x3xf32>) -> tensor<5x2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.matmul"(%{{.*}}, %{{.*}}) : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.gemm"(%{{.*}}, %{{.*}}, %{{.*}}) <{alpha = 1.000000e+00 : f64, beta = 1.000000e+00 : f64, trans_a = false, trans_b = true, operandSegmentSizes = array<i32: 1, 1, 1>}> : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.gemm"(%{{.*}}, %{{.*}}) <{alpha = 5.000000e-01 : f64, beta = 0.000000e+00 : f64, trans_a = false, trans_b = false, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  "func.return"() : () -> ()

func.func @conv(%x: tensor<1x2x5x5xf32>, %w: tensor<4x2x3x3xf32>, %b: tensor<4xf32>, %dw: tensor<2x1x3x3xf32>, %wt: tensor<2x3x2x2xf32>, %bt: tensor<3xf32>) {
  %0 = "nn.conv"(%x, %w, %b) <{strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64, operandSegmentSizes = array<i32: 1, 1, 1>}> : (tensor<1x2x5x5xf32>, tensor<4x2x3x3xf32>, tensor<4xf32>) -> tensor<1x4x5x5xf32>
  %1 = "nn.conv"(%x, %dw) <{strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<1x2x5x5xf32>, tensor<2x1x3x3xf32>) -> tensor<1x2x2x2xf32>
  %2 = "nn.conv_transpose"(%x, %wt, %bt) <{strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, output_padding = array<i64: 0, 0>, operandSegmentSizes = array<i32: 1, 1, 1>}> : (tensor<1x2x5x5xf32>, tensor<2x3x2x2xf32>, tensor<3xf32>) -> tensor<1x3x10x10xf32>
  %3 = "nn.conv_transpose"(%x, %wt) <{strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, output_padding = array<i64: 0, 0>, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<1x2x5x5xf32>, tensor<2x3x2x2xf32>) -> tensor<1x3x5x5xf32>
  func.return
}

// CHECK-LABEL: func.func @conv(%{{.*}}: tensor<1x2x5x5xf32>, %{{.*}}: tensor<4x2x3x3xf32>, %{{.*}}: tensor<4xf32>, %{{.*}}: tensor<2x1x3x3xf32>, %{{.*}}: tensor<2x3x2x2xf32>, %{{.*}}: tensor<3xf32>) {
// CHECK-NEXT:  %{{.*}} = "nn.conv"(%{{.*}}, %{{.*}}, %{{.*}}) <{strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64, operandSegmentSizes = array<i32: 1, 1, 1>}> : (tensor<1x2x5x5xf32>, tensor<4x2x3x3xf32>, tensor<4xf32>) -> tensor<1x4x5x5xf32>
// CHECK-NEXT:  %{{.*}} = "nn.conv"(%{{.*}}, %{{.*}}) <{strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<1x2x5x5xf32>, tensor<2x1x3x3xf32>) -> tensor<1x2x2x2xf32>
// CHECK-NEXT:  %{{.*}} = "nn.conv_transpose"(%{{.*}}, %{{.*}}, %{{.*}}) <{strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, output_padding = array<i64: 0, 0>, operandSegmentSizes = array<i32: 1, 1, 1>}> : (tensor<1x2x5x5xf32>, tensor<2x3x2x2xf32>, tensor<3xf32>) -> tensor<1x3x10x10xf32>
// CHECK-NEXT:  %{{.*}} = "nn.conv_transpose"(%{{.*}}, %{{.*}}) <{strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, output_padding = array<i64: 0, 0>, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<1x2x5x5xf32>, tensor<2x3x2x2xf32>) -> tensor<1x3x5x5xf32>
// CHECK-NEXT:  func.return

// GENERIC-LABEL: "func.func"() <{sym_name = "conv", function_type = (tensor<1x2x5x5xf32>, tensor<4x2x3x3xf32>, tensor<4xf32>, tensor<2x1x3x3xf32>, tensor<2x3x2x2xf32>, tensor<3xf32>) -> ()}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<1x2x5x5xf32>, %{{.*}}: tensor<4x2x3x3xf32>, %{{.*}}: tensor<4xf32>, %{{.*}}: tensor<2x1x3x3xf32>, %{{.*}}: tensor<2x3x2x2xf32>, %{{.*}}: tensor<3xf32>):
// GENERIC-NEXT:  %{{.*}} = "nn.conv"(%{{.*}}, %{{.*}}, %{{.*}}) <{strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64, operandSegmentSizes = array<i32: 1, 1, 1>}> : (tensor<1x2x5x5xf32>, tensor<4x2x3x3xf32>, tensor<4xf32>) -> tensor<1x4x5x5xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.conv"(%{{.*}}, %{{.*}}) <{strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<1x2x5x5xf32>, tensor<2x1x3x3xf32>) -> tensor<1x2x2x2xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.conv_transpose"(%{{.*}}, %{{.*}}, %{{.*}}) <{strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, output_padding = array<i64: 0, 0>, operandSegmentSizes = array<i32: 1, 1, 1>}> : (tensor<1x2x5x5xf32>, tensor<2x3x2x2xf32>, tensor<3xf32>) -> tensor<1x3x10x10xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.conv_transpose"(%{{.*}}, %{{.*}}) <{strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, output_padding = array<i64: 0, 0>, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<1x2x5x5xf32>, tensor<2x3x2x2xf32>) -> tensor<1x3x5x5xf32>
// GENERIC-NEXT:  "func.return"() : () -> ()

func.func @norm(%x: tensor<1x2x4x4xf32>, %c: tensor<2xf32>, %t: tensor<2x3x4xf32>, %g: tensor<4xf32>) {
  %0 = nn.batch_norm %x, %c, %c, %c, %c {epsilon = 1.000000e-05 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %1 = "nn.layer_norm"(%t, %g, %g) <{axis = -1 : i64, epsilon = 1.000000e-05 : f64, operandSegmentSizes = array<i32: 1, 1, 1>}> : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  %2 = "nn.layer_norm"(%t, %g) <{axis = 2 : i64, epsilon = 1.000000e-05 : f64, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  %3 = "nn.rms_norm"(%t, %g) <{axis = -1 : i64, epsilon = 1.000000e-06 : f64, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  %4 = "nn.rms_norm"(%t, %g, %g) <{axis = -1 : i64, epsilon = 1.000000e-06 : f64, operandSegmentSizes = array<i32: 1, 1, 1>}> : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  %5 = nn.softmax %t {axis = -1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %6 = nn.log_softmax %t {axis = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %7 = nn.lrn %x {size = 3 : i64, alpha = 1.000000e-04 : f64, beta = 7.500000e-01 : f64, bias = 1.000000e+00 : f64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  func.return
}

// CHECK-LABEL: func.func @norm(%{{.*}}: tensor<1x2x4x4xf32>, %{{.*}}: tensor<2xf32>, %{{.*}}: tensor<2x3x4xf32>, %{{.*}}: tensor<4xf32>) {
// CHECK-NEXT:  %{{.*}} = nn.batch_norm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 1.000000e-05 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
// CHECK-NEXT:  %{{.*}} = "nn.layer_norm"(%{{.*}}, %{{.*}}, %{{.*}}) <{axis = -1 : i64, epsilon = 1.000000e-05 : f64, operandSegmentSizes = array<i32: 1, 1, 1>}> : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
// CHECK-NEXT:  %{{.*}} = "nn.layer_norm"(%{{.*}}, %{{.*}}) <{axis = 2 : i64, epsilon = 1.000000e-05 : f64, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
// CHECK-NEXT:  %{{.*}} = "nn.rms_norm"(%{{.*}}, %{{.*}}) <{axis = -1 : i64, epsilon = 1.000000e-06 : f64, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
// CHECK-NEXT:  %{{.*}} = "nn.rms_norm"(%{{.*}}, %{{.*}}, %{{.*}}) <{axis = -1 : i64, epsilon = 1.000000e-06 : f64, operandSegmentSizes = array<i32: 1, 1, 1>}> : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
// CHECK-NEXT:  %{{.*}} = nn.softmax %{{.*}} {axis = -1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
// CHECK-NEXT:  %{{.*}} = nn.log_softmax %{{.*}} {axis = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
// CHECK-NEXT:  %{{.*}} = nn.lrn %{{.*}} {size = 3 : i64, alpha = 1.000000e-04 : f64, beta = 7.500000e-01 : f64, bias = 1.000000e+00 : f64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
// CHECK-NEXT:  func.return

// GENERIC-LABEL: "func.func"() <{sym_name = "norm", function_type = (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2x3x4xf32>, tensor<4xf32>) -> ()}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<1x2x4x4xf32>, %{{.*}}: tensor<2xf32>, %{{.*}}: tensor<2x3x4xf32>, %{{.*}}: tensor<4xf32>):
// GENERIC-NEXT:  %{{.*}} = "nn.batch_norm"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{epsilon = 1.000000e-05 : f64}> : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.layer_norm"(%{{.*}}, %{{.*}}, %{{.*}}) <{axis = -1 : i64, epsilon = 1.000000e-05 : f64, operandSegmentSizes = array<i32: 1, 1, 1>}> : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.layer_norm"(%{{.*}}, %{{.*}}) <{axis = 2 : i64, epsilon = 1.000000e-05 : f64, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.rms_norm"(%{{.*}}, %{{.*}}) <{axis = -1 : i64, epsilon = 1.000000e-06 : f64, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.rms_norm"(%{{.*}}, %{{.*}}, %{{.*}}) <{axis = -1 : i64, epsilon = 1.000000e-06 : f64, operandSegmentSizes = array<i32: 1, 1, 1>}> : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.softmax"(%{{.*}}) <{axis = -1 : i64}> : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.log_softmax"(%{{.*}}) <{axis = 1 : i64}> : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.lrn"(%{{.*}}) <{size = 3 : i64, alpha = 1.000000e-04 : f64, beta = 7.500000e-01 : f64, bias = 1.000000e+00 : f64}> : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
// GENERIC-NEXT:  "func.return"() : () -> ()

func.func @pool(%x: tensor<1x2x5x5xf32>) {
  %0 = nn.max_pool %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false} : (tensor<1x2x5x5xf32>) -> tensor<1x2x2x2xf32>
  %1 = nn.max_pool %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = true} : (tensor<1x2x5x5xf32>) -> tensor<1x2x3x3xf32>
  %2 = nn.avg_pool %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, ceil_mode = false, count_include_pad = true} : (tensor<1x2x5x5xf32>) -> tensor<1x2x5x5xf32>
  %3 = nn.resize %x {scales = [1.000000e+00 : f64, 1.000000e+00 : f64, 2.000000e+00 : f64, 2.000000e+00 : f64], mode = "nearest", coordinate_transformation_mode = "asymmetric", nearest_mode = "floor", cubic_coeff_a = -7.500000e-01 : f64, exclude_outside = false} : (tensor<1x2x5x5xf32>) -> tensor<1x2x10x10xf32>
  func.return
}

// CHECK-LABEL: func.func @pool(%{{.*}}: tensor<1x2x5x5xf32>) {
// CHECK-NEXT:  %{{.*}} = nn.max_pool %{{.*}} {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false} : (tensor<1x2x5x5xf32>) -> tensor<1x2x2x2xf32>
// CHECK-NEXT:  %{{.*}} = nn.max_pool %{{.*}} {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = true} : (tensor<1x2x5x5xf32>) -> tensor<1x2x3x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.avg_pool %{{.*}} {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, ceil_mode = false, count_include_pad = true} : (tensor<1x2x5x5xf32>) -> tensor<1x2x5x5xf32>
// CHECK-NEXT:  %{{.*}} = nn.resize %{{.*}} {scales = [1.000000e+00 : f64, 1.000000e+00 : f64, 2.000000e+00 : f64, 2.000000e+00 : f64], mode = "nearest", coordinate_transformation_mode = "asymmetric", nearest_mode = "floor", cubic_coeff_a = -7.500000e-01 : f64, exclude_outside = false} : (tensor<1x2x5x5xf32>) -> tensor<1x2x10x10xf32>
// CHECK-NEXT:  func.return

// GENERIC-LABEL: "func.func"() <{sym_name = "pool", function_type = (tensor<1x2x5x5xf32>) -> ()}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<1x2x5x5xf32>):
// GENERIC-NEXT:  %{{.*}} = "nn.max_pool"(%{{.*}}) <{kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false}> : (tensor<1x2x5x5xf32>) -> tensor<1x2x2x2xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.max_pool"(%{{.*}}) <{kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = true}> : (tensor<1x2x5x5xf32>) -> tensor<1x2x3x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.avg_pool"(%{{.*}}) <{kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, ceil_mode = false, count_include_pad = true}> : (tensor<1x2x5x5xf32>) -> tensor<1x2x5x5xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.resize"(%{{.*}}) <{scales = [1.000000e+00 : f64, 1.000000e+00 : f64, 2.000000e+00 : f64, 2.000000e+00 : f64], mode = "nearest", coordinate_transformation_mode = "asymmetric", nearest_mode = "floor", cubic_coeff_a = -7.500000e-01 : f64, exclude_outside = false}> : (tensor<1x2x5x5xf32>) -> tensor<1x2x10x10xf32>
// GENERIC-NEXT:  "func.return"() : () -> ()

func.func @reduce(%x: tensor<2x3x4xf32>) {
  %0 = nn.reduce_sum %x {axes = array<i64: 1>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
  %1 = nn.reduce_mean %x {axes = array<i64: -1>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<2x3xf32>
  %2 = nn.reduce_max %x {axes = array<i64>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<f32>
  %3 = nn.reduce_min %x {axes = array<i64: 0, 2>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<1x3x1xf32>
  %4 = nn.reduce_prod %x {axes = array<i64: 0>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<3x4xf32>
  %5 = nn.reduce_l1 %x {axes = array<i64: 2>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x3x1xf32>
  %6 = nn.reduce_l2 %x {axes = array<i64: 2>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<2x3xf32>
  %7 = nn.reduce_sum_square %x {axes = array<i64: 1, 2>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<2xf32>
  %8 = nn.reduce_log_sum %x {axes = array<i64: 1>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<2x4xf32>
  %9 = nn.reduce_log_sum_exp %x {axes = array<i64: -1>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x3x1xf32>
  %10 = nn.arg_max %x {axis = 1 : i64, keepdims = true, select_last_index = false} : (tensor<2x3x4xf32>) -> tensor<2x1x4xi64>
  %11 = nn.arg_min %x {axis = -1 : i64, keepdims = false, select_last_index = true} : (tensor<2x3x4xf32>) -> tensor<2x3xi64>
  func.return
}

// CHECK-LABEL: func.func @reduce(%{{.*}}: tensor<2x3x4xf32>) {
// CHECK-NEXT:  %{{.*}} = nn.reduce_sum %{{.*}} {axes = array<i64: 1>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
// CHECK-NEXT:  %{{.*}} = nn.reduce_mean %{{.*}} {axes = array<i64: -1>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.reduce_max %{{.*}} {axes = array<i64>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<f32>
// CHECK-NEXT:  %{{.*}} = nn.reduce_min %{{.*}} {axes = array<i64: 0, 2>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<1x3x1xf32>
// CHECK-NEXT:  %{{.*}} = nn.reduce_prod %{{.*}} {axes = array<i64: 0>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<3x4xf32>
// CHECK-NEXT:  %{{.*}} = nn.reduce_l1 %{{.*}} {axes = array<i64: 2>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x3x1xf32>
// CHECK-NEXT:  %{{.*}} = nn.reduce_l2 %{{.*}} {axes = array<i64: 2>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.reduce_sum_square %{{.*}} {axes = array<i64: 1, 2>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<2xf32>
// CHECK-NEXT:  %{{.*}} = nn.reduce_log_sum %{{.*}} {axes = array<i64: 1>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<2x4xf32>
// CHECK-NEXT:  %{{.*}} = nn.reduce_log_sum_exp %{{.*}} {axes = array<i64: -1>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x3x1xf32>
// CHECK-NEXT:  %{{.*}} = nn.arg_max %{{.*}} {axis = 1 : i64, keepdims = true, select_last_index = false} : (tensor<2x3x4xf32>) -> tensor<2x1x4xi64>
// CHECK-NEXT:  %{{.*}} = nn.arg_min %{{.*}} {axis = -1 : i64, keepdims = false, select_last_index = true} : (tensor<2x3x4xf32>) -> tensor<2x3xi64>
// CHECK-NEXT:  func.return

// GENERIC-LABEL: "func.func"() <{sym_name = "reduce", function_type = (tensor<2x3x4xf32>) -> ()}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<2x3x4xf32>):
// GENERIC-NEXT:  %{{.*}} = "nn.reduce_sum"(%{{.*}}) <{axes = array<i64: 1>, keepdims = true}> : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.reduce_mean"(%{{.*}}) <{axes = array<i64: -1>, keepdims = false}> : (tensor<2x3x4xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.reduce_max"(%{{.*}}) <{axes = array<i64>, keepdims = false}> : (tensor<2x3x4xf32>) -> tensor<f32>
// GENERIC-NEXT:  %{{.*}} = "nn.reduce_min"(%{{.*}}) <{axes = array<i64: 0, 2>, keepdims = true}> : (tensor<2x3x4xf32>) -> tensor<1x3x1xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.reduce_prod"(%{{.*}}) <{axes = array<i64: 0>, keepdims = false}> : (tensor<2x3x4xf32>) -> tensor<3x4xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.reduce_l1"(%{{.*}}) <{axes = array<i64: 2>, keepdims = true}> : (tensor<2x3x4xf32>) -> tensor<2x3x1xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.reduce_l2"(%{{.*}}) <{axes = array<i64: 2>, keepdims = false}> : (tensor<2x3x4xf32>) -> tensor<2x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.reduce_sum_square"(%{{.*}}) <{axes = array<i64: 1, 2>, keepdims = false}> : (tensor<2x3x4xf32>) -> tensor<2xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.reduce_log_sum"(%{{.*}}) <{axes = array<i64: 1>, keepdims = false}> : (tensor<2x3x4xf32>) -> tensor<2x4xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.reduce_log_sum_exp"(%{{.*}}) <{axes = array<i64: -1>, keepdims = true}> : (tensor<2x3x4xf32>) -> tensor<2x3x1xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.arg_max"(%{{.*}}) <{axis = 1 : i64, keepdims = true, select_last_index = false}> : (tensor<2x3x4xf32>) -> tensor<2x1x4xi64>
// GENERIC-NEXT:  %{{.*}} = "nn.arg_min"(%{{.*}}) <{axis = -1 : i64, keepdims = false, select_last_index = true}> : (tensor<2x3x4xf32>) -> tensor<2x3xi64>
// GENERIC-NEXT:  "func.return"() : () -> ()

func.func @layout(%x: tensor<2x3x4xf32>, %y: tensor<2x5x4xf32>, %i: tensor<2xi64>, %ie: tensor<2x3x2xi64>, %ind: tensor<2x1xi64>) {
  %0 = nn.reshape %x : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  %1 = nn.broadcast %i : (tensor<2xi64>) -> tensor<3x2xi64>
  %2 = nn.transpose %x {perm = array<i64: 0, 2, 1>} : (tensor<2x3x4xf32>) -> tensor<2x4x3xf32>
  %3 = nn.slice %x {starts = array<i64: 0, 1, 0>, ends = array<i64: 2, 3, 4>, steps = array<i64: 1, 1, 2>} : (tensor<2x3x4xf32>) -> tensor<2x2x2xf32>
  %4 = nn.concat %x, %y {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x5x4xf32>) -> tensor<2x8x4xf32>
  %5 = nn.gather %x, %i {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<2x2x4xf32>
  %6 = nn.gather_elements %x, %ie {axis = 2 : i64} : (tensor<2x3x4xf32>, tensor<2x3x2xi64>) -> tensor<2x3x2xf32>
  %7 = nn.gather_nd %x, %ind {batch_dims = 0 : i64} : (tensor<2x3x4xf32>, tensor<2x1xi64>) -> tensor<2x3x4xf32>
  %8 = nn.pad %x {pads = array<i64: 0, 1, 0, 0, 1, 2>, mode = "constant", value = 0.000000e+00 : f64} : (tensor<2x3x4xf32>) -> tensor<2x5x6xf32>
  %9 = nn.tile %x {repeats = array<i64: 1, 2, 1>} : (tensor<2x3x4xf32>) -> tensor<2x6x4xf32>
  %10:2 = nn.split %y {axis = 1 : i64} : (tensor<2x5x4xf32>) -> (tensor<2x2x4xf32>, tensor<2x3x4xf32>)
  func.return
}

// CHECK-LABEL: func.func @layout(%{{.*}}: tensor<2x3x4xf32>, %{{.*}}: tensor<2x5x4xf32>, %{{.*}}: tensor<2xi64>, %{{.*}}: tensor<2x3x2xi64>, %{{.*}}: tensor<2x1xi64>) {
// CHECK-NEXT:  %{{.*}} = nn.reshape %{{.*}} : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
// CHECK-NEXT:  %{{.*}} = nn.broadcast %{{.*}} : (tensor<2xi64>) -> tensor<3x2xi64>
// CHECK-NEXT:  %{{.*}} = nn.transpose %{{.*}} {perm = array<i64: 0, 2, 1>} : (tensor<2x3x4xf32>) -> tensor<2x4x3xf32>
// CHECK-NEXT:  %{{.*}} = nn.slice %{{.*}} {starts = array<i64: 0, 1, 0>, ends = array<i64: 2, 3, 4>, steps = array<i64: 1, 1, 2>} : (tensor<2x3x4xf32>) -> tensor<2x2x2xf32>
// CHECK-NEXT:  %{{.*}} = nn.concat %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x5x4xf32>) -> tensor<2x8x4xf32>
// CHECK-NEXT:  %{{.*}} = nn.gather %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<2x2x4xf32>
// CHECK-NEXT:  %{{.*}} = nn.gather_elements %{{.*}}, %{{.*}} {axis = 2 : i64} : (tensor<2x3x4xf32>, tensor<2x3x2xi64>) -> tensor<2x3x2xf32>
// CHECK-NEXT:  %{{.*}} = nn.gather_nd %{{.*}}, %{{.*}} {batch_dims = 0 : i64} : (tensor<2x3x4xf32>, tensor<2x1xi64>) -> tensor<2x3x4xf32>
// CHECK-NEXT:  %{{.*}} = nn.pad %{{.*}} {pads = array<i64: 0, 1, 0, 0, 1, 2>, mode = "constant", value = 0.000000e+00 : f64} : (tensor<2x3x4xf32>) -> tensor<2x5x6xf32>
// CHECK-NEXT:  %{{.*}} = nn.tile %{{.*}} {repeats = array<i64: 1, 2, 1>} : (tensor<2x3x4xf32>) -> tensor<2x6x4xf32>
// CHECK-NEXT:  %{{.*}}, %{{.*}} = nn.split %{{.*}} {axis = 1 : i64} : (tensor<2x5x4xf32>) -> (tensor<2x2x4xf32>, tensor<2x3x4xf32>)
// CHECK-NEXT:  func.return

// GENERIC-LABEL: "func.func"() <{sym_name = "layout", function_type = (tensor<2x3x4xf32>, tensor<2x5x4xf32>, tensor<2xi64>, tensor<2x3x2xi64>, tensor<2x1xi64>) -> ()}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<2x3x4xf32>, %{{.*}}: tensor<2x5x4xf32>, %{{.*}}: tensor<2xi64>, %{{.*}}: tensor<2x3x2xi64>, %{{.*}}: tensor<2x1xi64>):
// GENERIC-NEXT:  %{{.*}} = "nn.reshape"(%{{.*}}) : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.broadcast"(%{{.*}}) : (tensor<2xi64>) -> tensor<3x2xi64>
// GENERIC-NEXT:  %{{.*}} = "nn.transpose"(%{{.*}}) <{perm = array<i64: 0, 2, 1>}> : (tensor<2x3x4xf32>) -> tensor<2x4x3xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.slice"(%{{.*}}) <{starts = array<i64: 0, 1, 0>, ends = array<i64: 2, 3, 4>, steps = array<i64: 1, 1, 2>}> : (tensor<2x3x4xf32>) -> tensor<2x2x2xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.concat"(%{{.*}}, %{{.*}}) <{axis = 1 : i64}> : (tensor<2x3x4xf32>, tensor<2x5x4xf32>) -> tensor<2x8x4xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.gather"(%{{.*}}, %{{.*}}) <{axis = 1 : i64}> : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<2x2x4xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.gather_elements"(%{{.*}}, %{{.*}}) <{axis = 2 : i64}> : (tensor<2x3x4xf32>, tensor<2x3x2xi64>) -> tensor<2x3x2xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.gather_nd"(%{{.*}}, %{{.*}}) <{batch_dims = 0 : i64}> : (tensor<2x3x4xf32>, tensor<2x1xi64>) -> tensor<2x3x4xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.pad"(%{{.*}}) <{pads = array<i64: 0, 1, 0, 0, 1, 2>, mode = "constant", value = 0.000000e+00 : f64}> : (tensor<2x3x4xf32>) -> tensor<2x5x6xf32>
// GENERIC-NEXT:  %{{.*}} = "nn.tile"(%{{.*}}) <{repeats = array<i64: 1, 2, 1>}> : (tensor<2x3x4xf32>) -> tensor<2x6x4xf32>
// GENERIC-NEXT:  %{{.*}}, %{{.*}} = "nn.split"(%{{.*}}) <{axis = 1 : i64}> : (tensor<2x5x4xf32>) -> (tensor<2x2x4xf32>, tensor<2x3x4xf32>)
// GENERIC-NEXT:  "func.return"() : () -> ()
