// RUN: not h3pc-opt %s -p 'remap{calib="%S/Inputs/mlp-calib.npz"}' 2>&1 | filecheck %s --check-prefix=HANDLES
// RUN: not h3pc-opt %s -p 'refine-precision{calib="%S/Inputs/mlp-calib.npz"}' 2>&1 | filecheck %s --check-prefix=HANDLES

// Stage two measures quality, so it needs values: weight handles without data are refused in one
// line (tests/filecheck/transforms/remap.mlir: a run without calibration samples, a module without a split).
func.func @main(%x: tensor<4x64xf32> {onnx.name = "x"}) -> (tensor<4x16xf32> {onnx.name = "y"}) {
  %w = nn.constant {value = dense_resource<w> : tensor<64x16xf32>} : tensor<64x16xf32>
  %y = nn.matmul %x, %w {onnx_node = "fc", h3pc.split = {digital = 16 : i64}} : (tensor<4x64xf32>, tensor<64x16xf32>) -> tensor<4x16xf32>
  func.return %y : tensor<4x16xf32>
}

// HANDLES: h3pc-opt: error: stage two measures quality and needs the model's weights