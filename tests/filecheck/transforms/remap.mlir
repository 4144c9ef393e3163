// RUN: h3pc-opt %s -p 'remap{calib="%S/Inputs/mlp-calib.npz" metric=snr tolerance=60.0}' | filecheck %s
// RUN: h3pc-opt %s -p 'remap{calib="%S/Inputs/mlp-calib.npz" metric=snr tolerance=60.0}' | h3pc-opt -p lower-tiers,allocate-crossbars | filecheck %s --check-prefix=LOWERED
// RUN: h3pc-opt %s -p 'remap{calib="%S/Inputs/mlp-calib.npz" metric=snr tolerance=20.0}' | filecheck %s --check-prefix=HOLDS
// RUN: not h3pc-opt %s -p remap 2>&1 | filecheck %s --check-prefix=NOCALIB
// RUN: h3pc-opt %s -p 'remap{calib="%S/Inputs/mlp-calib.npz" metric=snr tolerance=20.0}' | sed -e 's/, h3pc.split = {[^}]*}//' | not h3pc-opt -p 'remap{calib="%S/Inputs/mlp-calib.npz"}' 2>&1 | filecheck %s --check-prefix=UNSPLIT

// Stage two's row remap as a pass, on a module that carries a split (the paper's equal split, as
// partition{mapping=naive} writes it) and whose constants hold their values. At 60 dB the noisy
// tiers' rows move to the exact digital tier until the metric holds; at 20 dB the split already
// holds and is kept. The remapped split prints and parses, and lower-tiers consumes it.
func.func @main(%x: tensor<4x8xf32> {onnx.name = "x"}) -> (tensor<4x6xf32> {onnx.name = "y"}) {
  %w1 = nn.constant {value = dense<[[0.5, -0.25, 0.75, 0.1, -0.6, 0.3, 0.2, -0.4, 0.9, -0.8, 0.15, 0.35], [-0.3, 0.6, -0.1, 0.45, 0.25, -0.7, 0.55, 0.05, -0.2, 0.4, -0.65, 0.8], [0.7, 0.2, -0.45, -0.35, 0.6, 0.1, -0.25, 0.85, 0.3, -0.15, 0.5, -0.55], [-0.5, -0.4, 0.3, 0.65, -0.1, 0.75, 0.45, -0.3, 0.2, 0.6, -0.35, 0.1], [0.25, 0.8, -0.6, 0.15, 0.4, -0.2, -0.75, 0.5, -0.45, 0.05, 0.7, -0.3], [0.6, -0.15, 0.35, -0.7, 0.55, 0.25, 0.1, -0.5, 0.65, -0.4, -0.2, 0.45], [-0.1, 0.5, 0.8, 0.3, -0.55, -0.35, 0.6, 0.2, -0.7, 0.75, 0.15, -0.25], [0.4, -0.65, -0.2, 0.55, 0.3, 0.45, -0.5, -0.6, 0.35, 0.1, 0.85, 0.2]]> : tensor<8x12xf32>} : tensor<8x12xf32>
  %h = nn.matmul %x, %w1 {onnx_node = "fc1", h3pc.split = {photonic = 3 : i64, sram_pim = 3 : i64, reram_pim = 3 : i64, digital = 3 : i64}} : (tensor<4x8xf32>, tensor<8x12xf32>) -> tensor<4x12xf32>
  %r = nn.relu %h {onnx_node = "relu"} : (tensor<4x12xf32>) -> tensor<4x12xf32>
  %w2 = nn.constant {value = dense<0.25> : tensor<12x6xf32>} : tensor<12x6xf32>
  %y = nn.matmul %r, %w2 {onnx_node = "fc2", h3pc.split = {photonic = 2 : i64, sram_pim = 2 : i64, reram_pim = 1 : i64, digital = 1 : i64}} : (tensor<4x12xf32>, tensor<12x6xf32>) -> tensor<4x6xf32>
  func.return %y : tensor<4x6xf32>
}

// CHECK:     nn.matmul {{.*}} {onnx_node = "fc1", h3pc.split = {sram_pim = 1 : i64, digital = 11 : i64}, h3pc.replicas = {sram_pim = 4 : i64}}
// CHECK:     nn.matmul {{.*}} {onnx_node = "fc2", h3pc.split = {digital = 6 : i64}}

// LOWERED:     digital.join {{.*}} {onnx_node = "fc1", axis = 2 : i64}
// LOWERED:     digital.matmul {{.*}} {onnx_node = "fc2"}
// LOWERED-NOT: photonic.matmul

// HOLDS:     nn.matmul {{.*}} {onnx_node = "fc1", h3pc.split = {photonic = 3 : i64, sram_pim = 3 : i64, reram_pim = 3 : i64, digital = 3 : i64}}
// HOLDS:     nn.matmul {{.*}} {onnx_node = "fc2", h3pc.split = {photonic = 2 : i64, sram_pim = 2 : i64, reram_pim = 1 : i64, digital = 1 : i64}}

// NOCALIB: h3pc-opt: error: stage two needs calibration samples (--calib, or the pass option calib=FILE)
// UNSPLIT: h3pc-opt: error: layer 'fc1' has no h3pc.split: run partition (or place) first
