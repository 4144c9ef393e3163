// RUN: h3pc-opt %s -p 'place{target=sram-pim hw="%S/Inputs/tiny-sram.yaml"},lower-tiers{hw="%S/Inputs/tiny-sram.yaml"},allocate-crossbars{hw="%S/Inputs/tiny-sram.yaml"}' | filecheck %s

// One large matrix (16 crossbars, an LM head) after a small one (8): it does not fit beside it, and
// streams in two pieces of 8 crossbars through the tier's 8-crossbar streaming region (`stream_tiles`),
// so the small one stays resident (a region as large as the matrix would have left it 4 crossbars).
func.func @head(%x: tensor<1x128xf32>) -> tensor<1x256xf32> {
  %w0 = nn.constant {value = dense_resource<w0> : tensor<128x128xf32>} : tensor<128x128xf32>
  %w1 = nn.constant {value = dense_resource<w1> : tensor<128x256xf32>} : tensor<128x256xf32>
  %0 = nn.matmul %x, %w0 : (tensor<1x128xf32>, tensor<128x128xf32>) -> tensor<1x128xf32>
  %1 = nn.matmul %0, %w1 : (tensor<1x128xf32>, tensor<128x256xf32>) -> tensor<1x256xf32>
  func.return %1 : tensor<1x256xf32>
}

// CHECK-LABEL: func.func @head
// CHECK:       pim.program {{.*}}base = 0 : i64, resident} : (tensor<128x128xf32>)
// CHECK:       pim.program {{.*}}streamed, base = 12 : i64} : (tensor<128x128xf32>)
// CHECK:       pim.program {{.*}}streamed, base = 12 : i64} : (tensor<128x128xf32>)
// CHECK-NOT:   pim.program
