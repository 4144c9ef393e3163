// RUN: h3pc-opt %s -p 'refine-precision{calib="%S/Inputs/mlp-calib.npz" metric=snr tolerance=30.0}' | filecheck %s
// RUN: h3pc-opt %s -p 'refine-precision{calib="%S/Inputs/mlp-calib.npz" metric=snr tolerance=30.0}' | h3pc-opt -p lower-tiers | filecheck %s --check-prefix=LOWERED
// RUN: h3pc-opt %s -p 'refine-precision{calib="%S/Inputs/mlp-calib.npz" metric=snr tolerance=90.0}' | filecheck %s --check-prefix=FAILING

// Stage two's precision refinement as a pass: per-layer converter widths (h3pc.bits, "tier.knob")
// as low as the metric allows on the split the module carries; lower-tiers reads them into the tier
// ops. A split that misses the tolerance from the start keeps the tiers' own widths.
func.func @main(%x: tensor<4x8xf32> {onnx.name = "x"}) -> (tensor<4x6xf32> {onnx.name = "y"}) {
  %w1 = nn.constant {value = dense<[[0.5, -0.25, 0.75, 0.1, -0.6, 0.3, 0.2, -0.4, 0.9, -0.8, 0.15, 0.35], [-0.3, 0.6, -0.1, 0.45, 0.25, -0.7, 0.55, 0.05, -0.2, 0.4, -0.65, 0.8], [0.7, 0.2, -0.45, -0.35, 0.6, 0.1, -0.25, 0.85, 0.3, -0.15, 0.5, -0.55], [-0.5, -0.4, 0.3, 0.65, -0.1, 0.75, 0.45, -0.3, 0.2, 0.6, -0.35, 0.1], [0.25, 0.8, -0.6, 0.15, 0.4, -0.2, -0.75, 0.5, -0.45, 0.05, 0.7, -0.3], [0.6, -0.15, 0.35, -0.7, 0.55, 0.25, 0.1, -0.5, 0.65, -0.4, -0.2, 0.45], [-0.1, 0.5, 0.8, 0.3, -0.55, -0.35, 0.6, 0.2, -0.7, 0.75, 0.15, -0.25], [0.4, -0.65, -0.2, 0.55, 0.3, 0.45, -0.5, -0.6, 0.35, 0.1, 0.85, 0.2]]> : tensor<8x12xf32>} : tensor<8x12xf32>
  %h = nn.matmul %x, %w1 {onnx_node = "fc1", h3pc.split = {photonic = 3 : i64, sram_pim = 3 : i64, reram_pim = 3 : i64, digital = 3 : i64}} : (tensor<4x8xf32>, tensor<8x12xf32>) -> tensor<4x12xf32>
  %r = nn.relu %h {onnx_node = "relu"} : (tensor<4x12xf32>) -> tensor<4x12xf32>
  %w2 = nn.constant {value = dense<0.25> : tensor<12x6xf32>} : tensor<12x6xf32>
  %y = nn.matmul %r, %w2 {onnx_node = "fc2", h3pc.split = {photonic = 2 : i64, sram_pim = 2 : i64, reram_pim = 1 : i64, digital = 1 : i64}} : (tensor<4x12xf32>, tensor<12x6xf32>) -> tensor<4x6xf32>
  func.return %y : tensor<4x6xf32>
}

// The ADC widths are lowered too: a conversion's time is linear in its bits (docs/hardware-model.md), so
// fewer ADC bits shorten every pass.
// CHECK: nn.matmul {{.*}} {onnx_node = "fc1", h3pc.split = {{{.*}}}, h3pc.bits = {reram_pim.adc_bits = 2 : i64, reram_pim.input_bits = 7 : i64, sram_pim.adc_bits = 2 : i64, sram_pim.input_bits = 4 : i64}}
// CHECK: nn.matmul {{.*}} {onnx_node = "fc2", h3pc.split = {{{.*}}}, h3pc.bits = {reram_pim.adc_bits = 2 : i64, reram_pim.input_bits = 7 : i64, sram_pim.adc_bits = 2 : i64, sram_pim.input_bits = 4 : i64}}

// LOWERED: pim.mvm {{.*}} {onnx_node = "fc1", input_bits = 4 : i64, adc_bits = 2 : i64}
// LOWERED: pim.mvm {{.*}} {onnx_node = "fc1", input_bits = 7 : i64, adc_bits = 2 : i64}

// FAILING-NOT: h3pc.bits
