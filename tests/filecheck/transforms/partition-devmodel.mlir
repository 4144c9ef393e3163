// RUN: h3pc %models/cnn_digits.onnx --emit nn | h3pc-opt -p "partition{mapping=naive}" | filecheck %s --check-prefix=NAIVE
// RUN: h3pc %models/cnn_digits.onnx --emit nn | h3pc-opt -p "partition{workers=1 solve_time=0.2}" | filecheck %s --check-prefix=CPSAT
// RUN: h3pc %models/cnn_digits.onnx --emit nn | h3pc-opt -p "partition{workers=1 solve_time=0.2},lower-tiers,allocate-crossbars" | filecheck %s --check-prefix=LOWERED

// Stage one as a pass on the nn IR of a dev model (the CNN of tests/models), imported by `h3pc --emit
// nn`: the IR's weights are handles without data, and the pass costs shapes only. Every GEMM-like
// layer gets its split as an attribute that prints and parses; lowering consumes every one.

// The equal split over the tiers able to run each layer (all four: every weight is static).
// NAIVE: "nn.conv"{{.*}}{onnx_node = "node_Conv_15", h3pc.split = {photonic = 4 : i64, sram_pim = 4 : i64, reram_pim = 4 : i64, digital = 4 : i64}}
// NAIVE: "nn.conv"{{.*}}{onnx_node = "node_conv2d_1", h3pc.split = {photonic = 8 : i64, sram_pim = 8 : i64, reram_pim = 8 : i64, digital = 8 : i64}}
// NAIVE: "nn.conv"{{.*}}{onnx_node = "node_conv2d_2", h3pc.split = {photonic = 8 : i64, sram_pim = 8 : i64, reram_pim = 8 : i64, digital = 8 : i64}}
// NAIVE: "nn.gemm"{{.*}}{onnx_node = "node_linear", h3pc.split = {photonic = 3 : i64, sram_pim = 3 : i64, reram_pim = 2 : i64, digital = 2 : i64}}

// CP-SAT's fastest split: every layer placed (which tiers get the rows depends on the search budget).
// CPSAT: "nn.conv"{{.*}}{onnx_node = "node_Conv_15", h3pc.split = {{{.*}}}}
// CPSAT: "nn.conv"{{.*}}{onnx_node = "node_conv2d_1", h3pc.split = {{{.*}}}}
// CPSAT: "nn.conv"{{.*}}{onnx_node = "node_conv2d_2", h3pc.split = {{{.*}}}}
// CPSAT: "nn.gemm"{{.*}}{onnx_node = "node_linear", h3pc.split = {{{.*}}}}

// LOWERED:     {{photonic.matmul|pim.mvm|digital.matmul}} {{.*}} {onnx_node = "node_Conv_15"
// LOWERED-NOT: "nn.conv"
// LOWERED-NOT: "nn.gemm"
