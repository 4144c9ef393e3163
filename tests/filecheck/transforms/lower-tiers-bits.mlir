// RUN: h3pc-opt %s -p lower-tiers | filecheck %s
// RUN: h3pc-opt %s -p lower-tiers | h3pc-opt | filecheck %s

// Per-layer bit widths (h3pc.bits, stage two's precision refinement) override the tiers' own widths
// in the lowered ops; a tier the attribute does not name keeps its description's widths.
func.func @bits(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %w = nn.constant {value = dense_resource<w> : tensor<8x8xf32>} : tensor<8x8xf32>
  %y = nn.matmul %x, %w {onnx_node = "proj", h3pc.split = {photonic = 4 : i64, sram_pim = 2 : i64, reram_pim = 2 : i64}, h3pc.bits = {photonic.in_bits = 4 : i64, photonic.out_bits = 5 : i64, sram_pim.input_bits = 6 : i64}} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  func.return %y : tensor<4x8xf32>
}

// CHECK-LABEL: func.func @bits
// CHECK:       photonic.matmul %{{.*}}, %{{.*}} {onnx_node = "proj", in_bits = 4 : i64, w_bits = 6 : i64, out_bits = 5 : i64}
// CHECK:       pim.mvm %{{.*}}, %{{.*}} {onnx_node = "proj", input_bits = 6 : i64, adc_bits = 7 : i64}
// CHECK:       pim.mvm %{{.*}}, %{{.*}} {onnx_node = "proj", input_bits = 8 : i64, adc_bits = 8 : i64}
// CHECK-NOT:   nn.matmul
