// RUN: h3pc-opt %s -p 'place{target=sram-pim hw="%S/Inputs/tiny-sram.yaml"},lower-tiers{hw="%S/Inputs/tiny-sram.yaml"},allocate-crossbars{hw="%S/Inputs/tiny-sram.yaml"}' | filecheck %s

// Three 128x128 weight matrices of 8 crossbars each (8-bit weights over 1-bit cells) on a 20-crossbar
// SRAM tier: the third does not fit, so a streaming region for its piece (8) is reserved at the top and
// only the first matrix stays resident; the other two are marked streamed and written before each use
// at base 20 - 8 = 12.
func.func @three(%x: tensor<1x128xf32>) -> tensor<1x128xf32> {
  %w0 = nn.constant {value = dense_resource<w0> : tensor<128x128xf32>} : tensor<128x128xf32>
  %w1 = nn.constant {value = dense_resource<w1> : tensor<128x128xf32>} : tensor<128x128xf32>
  %w2 = nn.constant {value = dense_resource<w2> : tensor<128x128xf32>} : tensor<128x128xf32>
  %0 = nn.matmul %x, %w0 : (tensor<1x128xf32>, tensor<128x128xf32>) -> tensor<1x128xf32>
  %1 = nn.matmul %0, %w1 : (tensor<1x128xf32>, tensor<128x128xf32>) -> tensor<1x128xf32>
  %2 = nn.matmul %1, %w2 : (tensor<1x128xf32>, tensor<128x128xf32>) -> tensor<1x128xf32>
  func.return %2 : tensor<1x128xf32>
}

// CHECK-LABEL: func.func @three
// CHECK:       pim.program {{.*}}base = 0 : i64, resident}
// CHECK:       pim.program {{.*}}streamed, base = 12 : i64}
// CHECK:       pim.program {{.*}}streamed, base = 12 : i64}
// CHECK-NOT:   pim.program

// A dynamic operand on a PIM tier is always streamed.
func.func @dynamic(%a: tensor<2x16xf32>, %b: tensor<16x4xf32>) -> tensor<2x4xf32> {
  %0 = nn.matmul %a, %b : (tensor<2x16xf32>, tensor<16x4xf32>) -> tensor<2x4xf32>
  func.return %0 : tensor<2x4xf32>
}

// CHECK-LABEL: func.func @dynamic
// CHECK:       pim.program {{.*}}streamed, base = 19 : i64} : (tensor<16x4xf32>) -> !pim.crossbars<sram, 16x4>
