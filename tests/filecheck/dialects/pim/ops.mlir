// RUN: h3pc-opt %s | filecheck %s
// RUN: %h3pc_roundtrip
// RUN: h3pc-opt %s --print-op-generic | filecheck %s --check-prefix=GENERIC

func.func @reram_fc(%x: tensor<2x8xf32>) -> tensor<2x4xf32> {
  %w = nn.constant {value = dense_resource<fc1_weight> : tensor<8x4xf32>} : tensor<8x4xf32>
  %xb = pim.program %w {kind = #pim.kind<reram>, weight_bits = 8 : i64, cell_bits = 2 : i64} : (tensor<8x4xf32>) -> !pim.crossbars<reram, 8x4>
  %y = pim.mvm %x, %xb {input_bits = 8 : i64, adc_bits = 6 : i64} : (tensor<2x8xf32>, !pim.crossbars<reram, 8x4>) -> tensor<2x4xf32>
  func.return %y : tensor<2x4xf32>
}

// CHECK-LABEL: func.func @reram_fc(%{{.*}}: tensor<2x8xf32>) -> tensor<2x4xf32> {
// CHECK-NEXT:  %{{.*}} = nn.constant {value = dense_resource<fc1_weight> : tensor<8x4xf32>} : tensor<8x4xf32>
// CHECK-NEXT:  %{{.*}} = pim.program %{{.*}} {kind = #pim.kind<reram>, weight_bits = 8 : i64, cell_bits = 2 : i64} : (tensor<8x4xf32>) -> !pim.crossbars<reram, 8x4>
// CHECK-NEXT:  %{{.*}} = pim.mvm %{{.*}}, %{{.*}} {input_bits = 8 : i64, adc_bits = 6 : i64} : (tensor<2x8xf32>, !pim.crossbars<reram, 8x4>) -> tensor<2x4xf32>
// CHECK-NEXT:  func.return %{{.*}} : tensor<2x4xf32>

// GENERIC-LABEL: "func.func"() <{sym_name = "reram_fc", function_type = (tensor<2x8xf32>) -> tensor<2x4xf32>}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<2x8xf32>):
// GENERIC-NEXT:  %{{.*}} = "nn.constant"() <{value = dense_resource<fc1_weight> : tensor<8x4xf32>}> : () -> tensor<8x4xf32>
// GENERIC-NEXT:  %{{.*}} = "pim.program"(%{{.*}}) <{kind = #pim.kind<reram>, weight_bits = 8 : i64, cell_bits = 2 : i64}> : (tensor<8x4xf32>) -> !pim.crossbars<reram, 8x4>
// GENERIC-NEXT:  %{{.*}} = "pim.mvm"(%{{.*}}, %{{.*}}) <{input_bits = 8 : i64, adc_bits = 6 : i64}> : (tensor<2x8xf32>, !pim.crossbars<reram, 8x4>) -> tensor<2x4xf32>
// GENERIC-NEXT:  "func.return"(%{{.*}}) : (tensor<2x4xf32>) -> ()

func.func @sram_batched(%x: tensor<2x3x6xf32>, %v: tensor<6xf32>, %w: tensor<6x5xf32>) -> (tensor<2x3x5xf32>, tensor<5xf32>) {
  %xb = pim.program %w {kind = #pim.kind<sram>, weight_bits = 4 : i64, cell_bits = 1 : i64} : (tensor<6x5xf32>) -> !pim.crossbars<sram, 6x5>
  %0 = pim.mvm %x, %xb {input_bits = 4 : i64, adc_bits = 16 : i64} : (tensor<2x3x6xf32>, !pim.crossbars<sram, 6x5>) -> tensor<2x3x5xf32>
  %1 = pim.mvm %v, %xb {input_bits = 1 : i64, adc_bits = 4 : i64} : (tensor<6xf32>, !pim.crossbars<sram, 6x5>) -> tensor<5xf32>
  func.return %0, %1 : tensor<2x3x5xf32>, tensor<5xf32>
}

// CHECK-LABEL: func.func @sram_batched(%{{.*}}: tensor<2x3x6xf32>, %{{.*}}: tensor<6xf32>, %{{.*}}: tensor<6x5xf32>) -> (tensor<2x3x5xf32>, tensor<5xf32>) {
// CHECK-NEXT:  %{{.*}} = pim.program %{{.*}} {kind = #pim.kind<sram>, weight_bits = 4 : i64, cell_bits = 1 : i64} : (tensor<6x5xf32>) -> !pim.crossbars<sram, 6x5>
// CHECK-NEXT:  %{{.*}} = pim.mvm %{{.*}}, %{{.*}} {input_bits = 4 : i64, adc_bits = 16 : i64} : (tensor<2x3x6xf32>, !pim.crossbars<sram, 6x5>) -> tensor<2x3x5xf32>
// CHECK-NEXT:  %{{.*}} = pim.mvm %{{.*}}, %{{.*}} {input_bits = 1 : i64, adc_bits = 4 : i64} : (tensor<6xf32>, !pim.crossbars<sram, 6x5>) -> tensor<5xf32>
// CHECK-NEXT:  func.return %{{.*}}, %{{.*}} : tensor<2x3x5xf32>, tensor<5xf32>

// GENERIC-LABEL: "func.func"() <{sym_name = "sram_batched", function_type = (tensor<2x3x6xf32>, tensor<6xf32>, tensor<6x5xf32>) -> (tensor<2x3x5xf32>, tensor<5xf32>)}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<2x3x6xf32>, %{{.*}}: tensor<6xf32>, %{{.*}}: tensor<6x5xf32>):
// GENERIC-NEXT:  %{{.*}} = "pim.program"(%{{.*}}) <{kind = #pim.kind<sram>, weight_bits = 4 : i64, cell_bits = 1 : i64}> : (tensor<6x5xf32>) -> !pim.crossbars<sram, 6x5>
// GENERIC-NEXT:  %{{.*}} = "pim.mvm"(%{{.*}}, %{{.*}}) <{input_bits = 4 : i64, adc_bits = 16 : i64}> : (tensor<2x3x6xf32>, !pim.crossbars<sram, 6x5>) -> tensor<2x3x5xf32>
// GENERIC-NEXT:  %{{.*}} = "pim.mvm"(%{{.*}}, %{{.*}}) <{input_bits = 1 : i64, adc_bits = 4 : i64}> : (tensor<6xf32>, !pim.crossbars<sram, 6x5>) -> tensor<5xf32>
// GENERIC-NEXT:  "func.return"(%{{.*}}, %{{.*}}) : (tensor<2x3x5xf32>, tensor<5xf32>) -> ()

func.func @mvm(%x: tensor<4x256xf32>, %w: tensor<256x64xf32>) -> tensor<4x64xf32> {
  %xb = pim.program %w {kind = #pim.kind<reram>, weight_bits = 8 : i64, cell_bits = 2 : i64} : (tensor<256x64xf32>) -> !pim.crossbars<reram, 256x64>
  %y = pim.mvm %x, %xb {input_bits = 8 : i64, adc_bits = 8 : i64} : (tensor<4x256xf32>, !pim.crossbars<reram, 256x64>) -> tensor<4x64xf32>
  func.return %y : tensor<4x64xf32>
}

// CHECK-LABEL: func.func @mvm(%{{.*}}: tensor<4x256xf32>, %{{.*}}: tensor<256x64xf32>) -> tensor<4x64xf32> {
// CHECK-NEXT:  %{{.*}} = pim.program %{{.*}} {kind = #pim.kind<reram>, weight_bits = 8 : i64, cell_bits = 2 : i64} : (tensor<256x64xf32>) -> !pim.crossbars<reram, 256x64>
// CHECK-NEXT:  %{{.*}} = pim.mvm %{{.*}}, %{{.*}} {input_bits = 8 : i64, adc_bits = 8 : i64} : (tensor<4x256xf32>, !pim.crossbars<reram, 256x64>) -> tensor<4x64xf32>
// CHECK-NEXT:  func.return %{{.*}} : tensor<4x64xf32>

// GENERIC-LABEL: "func.func"() <{sym_name = "mvm", function_type = (tensor<4x256xf32>, tensor<256x64xf32>) -> tensor<4x64xf32>}> ({
// GENERIC-NEXT:  ^bb0(%{{.*}}: tensor<4x256xf32>, %{{.*}}: tensor<256x64xf32>):
// GENERIC-NEXT:  %{{.*}} = "pim.program"(%{{.*}}) <{kind = #pim.kind<reram>, weight_bits = 8 : i64, cell_bits = 2 : i64}> : (tensor<256x64xf32>) -> !pim.crossbars<reram, 256x64>
// GENERIC-NEXT:  %{{.*}} = "pim.mvm"(%{{.*}}, %{{.*}}) <{input_bits = 8 : i64, adc_bits = 8 : i64}> : (tensor<4x256xf32>, !pim.crossbars<reram, 256x64>) -> tensor<4x64xf32>
// GENERIC-NEXT:  "func.return"(%{{.*}}) : (tensor<4x64xf32>) -> ()

func.func @grouped(%x: tensor<3x5x9xf32>, %w: tensor<3x9x2xf32>) -> tensor<3x5x2xf32> {
  %xb = pim.program %w {kind = #pim.kind<sram>, weight_bits = 8 : i64, cell_bits = 1 : i64, base = 12 : i64, resident} : (tensor<3x9x2xf32>) -> !pim.crossbars<sram, 3x9x2>
  %y = pim.mvm %x, %xb {input_bits = 8 : i64, adc_bits = 7 : i64} : (tensor<3x5x9xf32>, !pim.crossbars<sram, 3x9x2>) -> tensor<3x5x2xf32>
  func.return %y : tensor<3x5x2xf32>
}

// CHECK-LABEL: func.func @grouped(%{{.*}}: tensor<3x5x9xf32>, %{{.*}}: tensor<3x9x2xf32>) -> tensor<3x5x2xf32> {
// CHECK-NEXT:  %{{.*}} = pim.program %{{.*}} {kind = #pim.kind<sram>, weight_bits = 8 : i64, cell_bits = 1 : i64, base = 12 : i64, resident} : (tensor<3x9x2xf32>) -> !pim.crossbars<sram, 3x9x2>
// CHECK-NEXT:  %{{.*}} = pim.mvm %{{.*}}, %{{.*}} {input_bits = 8 : i64, adc_bits = 7 : i64} : (tensor<3x5x9xf32>, !pim.crossbars<sram, 3x9x2>) -> tensor<3x5x2xf32>
// CHECK-NEXT:  func.return %{{.*}} : tensor<3x5x2xf32>

// GENERIC-LABEL: "func.func"() <{sym_name = "grouped", function_type = (tensor<3x5x9xf32>, tensor<3x9x2xf32>) -> tensor<3x5x2xf32>}> ({
// GENERIC:  "pim.program"(%{{.*}}) <{kind = #pim.kind<sram>, weight_bits = 8 : i64, cell_bits = 1 : i64, base = 12 : i64, resident}> : (tensor<3x9x2xf32>) -> !pim.crossbars<sram, 3x9x2>

func.func @streamed(%x: tensor<2x8xf32>) -> tensor<2x4xf32> {
  %w = nn.constant {value = dense_resource<fc1_weight> : tensor<8x4xf32>} : tensor<8x4xf32>
  %xb = pim.program %w {kind = #pim.kind<sram>, weight_bits = 8 : i64, cell_bits = 1 : i64, base = 60 : i64, streamed} : (tensor<8x4xf32>) -> !pim.crossbars<sram, 8x4>
  %y = pim.mvm %x, %xb {input_bits = 8 : i64, adc_bits = 7 : i64} : (tensor<2x8xf32>, !pim.crossbars<sram, 8x4>) -> tensor<2x4xf32>
  func.return %y : tensor<2x4xf32>
}

// CHECK-LABEL: func.func @streamed(%{{.*}}: tensor<2x8xf32>) -> tensor<2x4xf32> {
// CHECK:       %{{.*}} = pim.program %{{.*}} {kind = #pim.kind<sram>, weight_bits = 8 : i64, cell_bits = 1 : i64, base = 60 : i64, streamed} : (tensor<8x4xf32>) -> !pim.crossbars<sram, 8x4>

// GENERIC-LABEL: "func.func"() <{sym_name = "streamed", function_type = (tensor<2x8xf32>) -> tensor<2x4xf32>}> ({
// GENERIC:       "pim.program"(%{{.*}}) <{kind = #pim.kind<sram>, weight_bits = 8 : i64, cell_bits = 1 : i64, base = 60 : i64, streamed}> : (tensor<8x4xf32>) -> !pim.crossbars<sram, 8x4>

// Weight replication: 4 copies of the matrix from base 8 on; the MVM's 16 vectors are shared out over them.
func.func @replicated(%x: tensor<16x8xf32>) -> tensor<16x4xf32> {
  %w = nn.constant {value = dense_resource<fc1_weight> : tensor<8x4xf32>} : tensor<8x4xf32>
  %xb = pim.program %w {kind = #pim.kind<reram>, weight_bits = 8 : i64, cell_bits = 2 : i64, replicas = 4 : i64, base = 8 : i64, resident} : (tensor<8x4xf32>) -> !pim.crossbars<reram, 8x4>
  %y = pim.mvm %x, %xb {input_bits = 8 : i64, adc_bits = 8 : i64} : (tensor<16x8xf32>, !pim.crossbars<reram, 8x4>) -> tensor<16x4xf32>
  func.return %y : tensor<16x4xf32>
}

// CHECK-LABEL: func.func @replicated(%{{.*}}: tensor<16x8xf32>) -> tensor<16x4xf32> {
// CHECK:       %{{.*}} = pim.program %{{.*}} {kind = #pim.kind<reram>, weight_bits = 8 : i64, cell_bits = 2 : i64, replicas = 4 : i64, base = 8 : i64, resident} : (tensor<8x4xf32>) -> !pim.crossbars<reram, 8x4>

// GENERIC-LABEL: "func.func"() <{sym_name = "replicated", function_type = (tensor<16x8xf32>) -> tensor<16x4xf32>}> ({
// GENERIC:       "pim.program"(%{{.*}}) <{kind = #pim.kind<reram>, weight_bits = 8 : i64, cell_bits = 2 : i64, replicas = 4 : i64, base = 8 : i64, resident}> : (tensor<8x4xf32>) -> !pim.crossbars<reram, 8x4>

// A quantized model's activation scale as the DAC's step (MVMS), with the code range it passes.
func.func @static_step(%x: tensor<2x8xf32>, %xb: !pim.crossbars<sram, 8x4>) -> tensor<2x4xf32> {
  %y = pim.mvm %x, %xb {input_bits = 8 : i64, adc_bits = 7 : i64, input_scale = 5.000000e-02 : f32, input_levels = 255 : i64} : (tensor<2x8xf32>, !pim.crossbars<sram, 8x4>) -> tensor<2x4xf32>
  func.return %y : tensor<2x4xf32>
}

// CHECK-LABEL: func.func @static_step
// CHECK-NEXT:  %{{.*}} = pim.mvm %{{.*}}, %{{.*}} {input_bits = 8 : i64, adc_bits = 7 : i64, input_scale = 5.000000e-02 : f32, input_levels = 255 : i64} : (tensor<2x8xf32>, !pim.crossbars<sram, 8x4>) -> tensor<2x4xf32>
// GENERIC-LABEL: "func.func"() <{sym_name = "static_step"
// GENERIC:       "pim.mvm"(%{{.*}}, %{{.*}}) <{input_bits = 8 : i64, adc_bits = 7 : i64, input_scale = 5.000000e-02 : f32, input_levels = 255 : i64}>

// A quantized model's weight steps, one per output column: the cells take its own codes (PROGS).
func.func @model_codes(%w: tensor<8x4xf32>) -> !pim.crossbars<sram, 8x4> {
  %xb = pim.program %w {kind = #pim.kind<sram>, weight_bits = 8 : i64, cell_bits = 1 : i64, weight_scale = array<f32: 0.5, 0.25, 0.125, 1.0>} : (tensor<8x4xf32>) -> !pim.crossbars<sram, 8x4>
  func.return %xb : !pim.crossbars<sram, 8x4>
}

// CHECK-LABEL: func.func @model_codes
// CHECK-NEXT:  %{{.*}} = pim.program %{{.*}} {kind = #pim.kind<sram>, weight_bits = 8 : i64, cell_bits = 1 : i64, weight_scale = array<f32: 5.000000e-01, 2.500000e-01, 1.250000e-01, 1.000000e+00>} : (tensor<8x4xf32>) -> !pim.crossbars<sram, 8x4>
// GENERIC-LABEL: "func.func"() <{sym_name = "model_codes"
// GENERIC:       "pim.program"(%{{.*}}) <{kind = #pim.kind<sram>, weight_bits = 8 : i64, cell_bits = 1 : i64, weight_scale = array<f32: 5.000000e-01, 2.500000e-01, 1.250000e-01, 1.000000e+00>}>
