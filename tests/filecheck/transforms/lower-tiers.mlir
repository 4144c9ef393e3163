// RUN: h3pc-opt %s -p place,lower-tiers,allocate-crossbars | filecheck %s
// RUN: h3pc-opt %s -p place | filecheck %s --check-prefix=PLACE
// RUN: h3pc-opt %s -p "place{replication=false}",lower-tiers,allocate-crossbars | filecheck %s --check-prefix=DENSE
// RUN: h3pc-opt %s -p "place{target=photonic}",lower-tiers | filecheck %s --check-prefix=PHOTONIC
// RUN: h3pc-opt %s -p "place{target=electronic}",lower-tiers | filecheck %s --check-prefix=DIGITAL

// A static-weight matmul goes to SRAM-PIM (resident, its 4 input vectors read by 4 copies of the
// weights on free crossbars), the dynamic one (attention-like) to photonics.
func.func @attn(%x: tensor<4x8xf32>) -> tensor<4x4xf32> {
  %w = nn.constant {value = dense_resource<w> : tensor<8x8xf32>} : tensor<8x8xf32>
  %q = nn.matmul %x, %w {onnx_node = "proj"} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %kt = nn.transpose %q {perm = array<i64: 1, 0>} : (tensor<4x8xf32>) -> tensor<8x4xf32>
  %s = nn.matmul %q, %kt {onnx_node = "scores"} : (tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<4x4xf32>
  func.return %s : tensor<4x4xf32>
}

// PLACE: nn.matmul {{.*}} {onnx_node = "proj", h3pc.split = {sram_pim = 8 : i64}, h3pc.replicas = {sram_pim = 4 : i64}}
// PLACE: nn.matmul {{.*}} {onnx_node = "scores", h3pc.split = {photonic = 4 : i64}}

// CHECK-LABEL: func.func @attn
// CHECK:       %[[W:.*]] = nn.constant
// CHECK-NEXT:  %{{.*}} = nn.reshape %{{.*}} {onnx_node = "proj"} : (tensor<4x8xf32>) -> tensor<1x4x8xf32>
// CHECK-NEXT:  %[[XB:.*]] = pim.program %[[W]] {onnx_node = "proj", kind = #pim.kind<sram>, weight_bits = 8 : i64, cell_bits = 1 : i64, replicas = 4 : i64, base = 0 : i64, resident} : (tensor<8x8xf32>) -> !pim.crossbars<sram, 8x8>
// CHECK-NEXT:  %{{.*}} = pim.mvm %{{.*}}, %[[XB]] {onnx_node = "proj", input_bits = 8 : i64, adc_bits = 7 : i64} : (tensor<1x4x8xf32>, !pim.crossbars<sram, 8x8>) -> tensor<1x4x8xf32>
// CHECK:       photonic.matmul %{{.*}}, %{{.*}} {onnx_node = "scores", in_bits = 6 : i64, w_bits = 6 : i64, out_bits = 8 : i64} : (tensor<1x4x8xf32>, tensor<1x8x4xf32>) -> tensor<1x4x4xf32>
// CHECK-NOT:   nn.matmul

// DENSE:       pim.program %{{.*}} {onnx_node = "proj", kind = #pim.kind<sram>, weight_bits = 8 : i64, cell_bits = 1 : i64, base = 0 : i64, resident}
// DENSE-NOT:   replicas

// PHOTONIC-COUNT-2: photonic.matmul
// PHOTONIC-NOT: pim.

// DIGITAL-COUNT-2: digital.matmul
// DIGITAL-NOT: photonic.matmul

// A convolution becomes im2col rows times reshaped weights, then back to NCHW with its bias.
func.func @conv(%x: tensor<1x2x4x4xf32>) -> tensor<1x3x4x4xf32> {
  %w = nn.constant {value = dense_resource<cw> : tensor<3x2x3x3xf32>} : tensor<3x2x3x3xf32>
  %b = nn.constant {value = dense<[1.0, 2.0, 3.0]> : tensor<3xf32>} : tensor<3xf32>
  %y = "nn.conv"(%x, %w, %b) <{strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64, operandSegmentSizes = array<i32: 1, 1, 1>}> {onnx_node = "conv"} : (tensor<1x2x4x4xf32>, tensor<3x2x3x3xf32>, tensor<3xf32>) -> tensor<1x3x4x4xf32>
  func.return %y : tensor<1x3x4x4xf32>
}

// CHECK-LABEL: func.func @conv
// CHECK:       digital.im2col %{{.*}} {onnx_node = "conv", kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x16x18xf32>
// CHECK:       pim.program {{.*}} replicas = 16 : i64, base = 4 : i64, resident} : (tensor<18x3xf32>) -> !pim.crossbars<sram, 18x3>
// CHECK:       pim.mvm {{.*}} : (tensor<1x16x18xf32>, !pim.crossbars<sram, 18x3>) -> tensor<1x16x3xf32>
// CHECK:       nn.transpose {{.*}} perm = array<i64: 1, 0, 3, 2>
// CHECK:       nn.add
