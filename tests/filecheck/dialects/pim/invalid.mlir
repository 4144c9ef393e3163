// RUN: h3pc-opt %s --split-input-file --verify-diagnostics | filecheck %s

// #pim.kind attribute
func.func @case0(%w: tensor<4x4xf32>) {
  %0 = pim.program %w {kind = #pim.kind<flash>, weight_bits = 8 : i64, cell_bits = 2 : i64} : (tensor<4x4xf32>) -> !pim.crossbars<reram, 4x4>
  func.return
}
// CHECK: PIM kind must be one of sram, reram, got 'flash'

// -----

// !pim.crossbars type
func.func @case1(%w: tensor<4x4xf32>) {
  %0 = pim.program %w {kind = #pim.kind<sram>, weight_bits = 8 : i64, cell_bits = 2 : i64} : (tensor<4x4xf32>) -> !pim.crossbars<dram, 4x4>
  func.return
}
// CHECK: PIM kind must be one of sram, reram, got 'dram'

// -----

func.func @case2(%w: tensor<4x0xf32>) {
  %0 = pim.program %w {kind = #pim.kind<sram>, weight_bits = 8 : i64, cell_bits = 2 : i64} : (tensor<4x0xf32>) -> !pim.crossbars<sram, 4x0>
  func.return
}
// CHECK: crossbar matrix dims must be positive

// -----

// pim.program
func.func @case3(%w: tensor<4x4xf32>) {
  %0 = pim.program %w {kind = #pim.kind<reram>, weight_bits = 32 : i64, cell_bits = 2 : i64} : (tensor<4x4xf32>) -> !pim.crossbars<reram, 4x4>
  func.return
}
// CHECK: weight_bits must be in 1..16, got 32

// -----

func.func @case4(%w: tensor<4x4xf32>) {
  %0 = pim.program %w {kind = #pim.kind<reram>, weight_bits = 8 : i64, cell_bits = 0 : i64} : (tensor<4x4xf32>) -> !pim.crossbars<reram, 4x4>
  func.return
}
// CHECK: cell_bits must be in 1..16, got 0

// -----

func.func @case5(%w: tensor<4x4xf32>) {
  %0 = pim.program %w {kind = #pim.kind<reram>, weight_bits = 8 : i64, cell_bits = 3 : i64} : (tensor<4x4xf32>) -> !pim.crossbars<reram, 4x4>
  func.return
}
// CHECK: weight_bits 8 is not a multiple of cell_bits 3

// -----

func.func @case6(%w: tensor<4x4xf32>) {
  %0 = pim.program %w {kind = #pim.kind<sram>, weight_bits = 8 : i64, cell_bits = 1 : i64} : (tensor<4x4xf32>) -> !pim.crossbars<reram, 4x4>
  func.return
}
// CHECK: kind sram differs from the result's reram

// -----

func.func @case7(%w: tensor<4x8xf32>) {
  %0 = pim.program %w {kind = #pim.kind<sram>, weight_bits = 8 : i64, cell_bits = 1 : i64} : (tensor<4x8xf32>) -> !pim.crossbars<sram, 8x4>
  func.return
}
// CHECK: weights [4,8] do not match crossbars [8,4]

// -----

// pim.mvm
func.func @case8(%x: tensor<2x8xf32>, %xb: !pim.crossbars<reram, 8x4>) {
  %0 = pim.mvm %x, %xb {input_bits = 0 : i64, adc_bits = 8 : i64} : (tensor<2x8xf32>, !pim.crossbars<reram, 8x4>) -> tensor<2x4xf32>
  func.return
}
// CHECK: input_bits must be in 1..16, got 0

// -----

func.func @case9(%x: tensor<2x8xf32>, %xb: !pim.crossbars<reram, 8x4>) {
  %0 = pim.mvm %x, %xb {input_bits = 8 : i64, adc_bits = 20 : i64} : (tensor<2x8xf32>, !pim.crossbars<reram, 8x4>) -> tensor<2x4xf32>
  func.return
}
// CHECK: adc_bits must be in 1..16, got 20

// -----

func.func @case10(%x: tensor<2x6xf32>, %xb: !pim.crossbars<reram, 8x4>) {
  %0 = pim.mvm %x, %xb {input_bits = 8 : i64, adc_bits = 8 : i64} : (tensor<2x6xf32>, !pim.crossbars<reram, 8x4>) -> tensor<2x4xf32>
  func.return
}
// CHECK: input [2,6] does not match crossbar rows 8

// -----

func.func @case11(%x: tensor<f32>, %xb: !pim.crossbars<sram, 1x4>) {
  %0 = pim.mvm %x, %xb {input_bits = 8 : i64, adc_bits = 8 : i64} : (tensor<f32>, !pim.crossbars<sram, 1x4>) -> tensor<4xf32>
  func.return
}
// CHECK: input [] does not match crossbar rows 1

// -----

func.func @case12(%x: tensor<3x2x8xf32>, %xb: !pim.crossbars<sram, 8x4>) {
  %0 = pim.mvm %x, %xb {input_bits = 8 : i64, adc_bits = 8 : i64} : (tensor<3x2x8xf32>, !pim.crossbars<sram, 8x4>) -> tensor<6x4xf32>
  func.return
}
// CHECK: result shape [6,4], expected [3,2,4]

// -----

// IRDL: missing required property
func.func @case13(%w: tensor<4x4xf32>) {
  %0 = pim.program %w {weight_bits = 8 : i64, cell_bits = 2 : i64} : (tensor<4x4xf32>) -> !pim.crossbars<reram, 4x4>
  func.return
}
// CHECK: property 'kind' expected in operation 'pim.program'

// -----

// IRDL: wrong operand type (crossbars expected)
func.func @case14(%x: tensor<2x8xf32>, %w: tensor<8x4xf32>) {
  %0 = "pim.mvm"(%x, %w) <{input_bits = 8 : i64, adc_bits = 8 : i64}> : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
  func.return
}
// CHECK: tensor<8x4xf32> should be of base attribute pim.crossbars

// -----

// IRDL: property of the wrong attribute kind
func.func @case15(%w: tensor<4x4xf32>) {
  %0 = pim.program %w {kind = "reram", weight_bits = 8 : i64, cell_bits = 2 : i64} : (tensor<4x4xf32>) -> !pim.crossbars<reram, 4x4>
  func.return
}
// CHECK: "reram" should be of base attribute pim.kind

// -----

func.func @case16(%w: tensor<2x2x4x4xf32>) {
  %0 = pim.program %w {kind = #pim.kind<sram>, weight_bits = 8 : i64, cell_bits = 1 : i64} : (tensor<2x2x4x4xf32>) -> !pim.crossbars<sram, 2x2x4x4>
  func.return
}
// CHECK: crossbars hold a rows x cols matrix or groups x rows x cols, got 4 dims

// -----

func.func @case17(%w: tensor<4x4xf32>) {
  %0 = pim.program %w {kind = #pim.kind<sram>, weight_bits = 8 : i64, cell_bits = 1 : i64, base = -3 : i64} : (tensor<4x4xf32>) -> !pim.crossbars<sram, 4x4>
  func.return
}
// CHECK: crossbar base must be >= 0, got -3

// -----

func.func @case18(%x: tensor<2x8xf32>, %xb: !pim.crossbars<sram, 3x8x4>) {
  %0 = pim.mvm %x, %xb {input_bits = 8 : i64, adc_bits = 8 : i64} : (tensor<2x8xf32>, !pim.crossbars<sram, 3x8x4>) -> tensor<2x4xf32>
  func.return
}
// CHECK: grouped crossbars need input [3, m, 8], got [2,8]

// -----

func.func @case19(%w: tensor<4x4xf32>) {
  %0 = pim.program %w {kind = #pim.kind<sram>, weight_bits = 8 : i64, cell_bits = 1 : i64, base = 0 : i64, resident, streamed} : (tensor<4x4xf32>) -> !pim.crossbars<sram, 4x4>
  func.return
}
// CHECK: weights cannot be both resident and streamed

// -----

func.func @replicas_zero(%w: tensor<4x4xf32>) {
  %0 = pim.program %w {kind = #pim.kind<sram>, weight_bits = 8 : i64, cell_bits = 1 : i64, replicas = 0 : i64, base = 0 : i64, resident} : (tensor<4x4xf32>) -> !pim.crossbars<sram, 4x4>
  func.return
}
// CHECK: replicas must be >= 1, got 0

// -----

func.func @case20(%x: tensor<2x8xf32>, %xb: !pim.crossbars<sram, 8x4>) {
  %0 = pim.mvm %x, %xb {input_bits = 8 : i64, adc_bits = 8 : i64, input_scale = -1.0 : f32, input_levels = 127 : i64} : (tensor<2x8xf32>, !pim.crossbars<sram, 8x4>) -> tensor<2x4xf32>
  func.return
}
// CHECK: input_scale must be a positive finite number, got -1.0

// -----

func.func @case21(%x: tensor<2x8xf32>, %xb: !pim.crossbars<sram, 8x4>) {
  %0 = pim.mvm %x, %xb {input_bits = 8 : i64, adc_bits = 8 : i64, input_scale = 0.5 : f32} : (tensor<2x8xf32>, !pim.crossbars<sram, 8x4>) -> tensor<2x4xf32>
  func.return
}
// CHECK: input_scale and input_levels go together

// -----

func.func @case22(%w: tensor<8x4xf32>) {
  %0 = pim.program %w {kind = #pim.kind<sram>, weight_bits = 8 : i64, cell_bits = 1 : i64, weight_scale = array<f32: 0.5, 0.25>} : (tensor<8x4xf32>) -> !pim.crossbars<sram, 8x4>
  func.return
}
// CHECK: weight_scale needs 4 positive finite steps (one per output column), got 2
