// RUN: h3pc-opt %s -p 'lower-tiers{hw="%S/Inputs/tiny-sram.yaml"},allocate-crossbars{hw="%S/Inputs/tiny-sram.yaml"}' | filecheck %s

// Stage one chose to stream the first matrix (`h3pc.stream`): its pim.program is marked streamed
// and written before each use at the top of the 20-crossbar tier (base 20 - 8 = 12), although the
// tier has room for it; the second stays resident from crossbar 0.
func.func @chosen(%x: tensor<1x128xf32>) -> tensor<1x128xf32> {
  %w0 = nn.constant {value = dense_resource<w0> : tensor<128x128xf32>} : tensor<128x128xf32>
  %w1 = nn.constant {value = dense_resource<w1> : tensor<128x128xf32>} : tensor<128x128xf32>
  %0 = nn.matmul %x, %w0 {h3pc.split = {sram_pim = 128 : i64}, h3pc.stream = ["sram_pim"]} : (tensor<1x128xf32>, tensor<128x128xf32>) -> tensor<1x128xf32>
  %1 = nn.matmul %0, %w1 {h3pc.split = {sram_pim = 128 : i64}} : (tensor<1x128xf32>, tensor<128x128xf32>) -> tensor<1x128xf32>
  func.return %1 : tensor<1x128xf32>
}

// CHECK-LABEL: func.func @chosen
// CHECK:       pim.program {{.*}}streamed, base = 12 : i64}
// CHECK:       pim.program {{.*}}base = 0 : i64, resident}
// CHECK-NOT:   pim.program
