// RUN: h3pc-opt %s -p "partition{mapping=naive}" | filecheck %s --check-prefix=NAIVE
// RUN: h3pc-opt %s -p "partition{mapping=naive}" | h3pc-opt -p lower-tiers,allocate-crossbars | filecheck %s --check-prefix=LOWERED
// RUN: h3pc-opt %s -p "partition{mapping=rule}" | filecheck %s --check-prefix=RULE
// RUN: h3pc-opt %s -p "partition{objective=latency workers=1}",lower-tiers,allocate-crossbars | filecheck %s --check-prefix=CPSAT
// RUN: h3pc-opt %s -p "partition{objective=energy pick=energy workers=1}" | filecheck %s --check-prefix=ENERGY
// RUN: h3pc-opt %s -p 'partition{mapping=naive placement_out="%t.json"}' > /dev/null && filecheck %s --check-prefix=PLACEMENT < %t.json
// RUN: h3pc-opt %s -p 'partition{placement_in="%t.json" workers=1}' | filecheck %s --check-prefix=NAIVE

// Stage one as a pass. Its decisions are attributes that print and parse (the second RUN line feeds
// them back to h3pc-opt, which lowers each tier's part); the weights are handles without data, as
// costs depend on shapes only.
func.func @mlp(%x: tensor<4x64xf32>) -> tensor<4x16xf32> {
  %w1 = nn.constant {value = dense_resource<w1> : tensor<64x128xf32>} : tensor<64x128xf32>
  %h = nn.matmul %x, %w1 {onnx_node = "fc1"} : (tensor<4x64xf32>, tensor<64x128xf32>) -> tensor<4x128xf32>
  %r = nn.relu %h {onnx_node = "relu"} : (tensor<4x128xf32>) -> tensor<4x128xf32>
  %w2 = nn.constant {value = dense_resource<w2> : tensor<128x16xf32>} : tensor<128x16xf32>
  %y = nn.matmul %r, %w2 {onnx_node = "fc2"} : (tensor<4x128xf32>, tensor<128x16xf32>) -> tensor<4x16xf32>
  func.return %y : tensor<4x16xf32>
}

// The paper's equal split: every tier able to run a layer gets the same share of its rows.
// (read back as pins, the solver may still give the PIM parts copies of their weights: h3pc.replicas)
// NAIVE: nn.matmul {{.*}} {onnx_node = "fc1", h3pc.split = {photonic = 32 : i64, sram_pim = 32 : i64, reram_pim = 32 : i64, digital = 32 : i64}
// NAIVE: nn.matmul {{.*}} {onnx_node = "fc2", h3pc.split = {photonic = 4 : i64, sram_pim = 4 : i64, reram_pim = 4 : i64, digital = 4 : i64}

// LOWERED:     photonic.matmul {{.*}} {onnx_node = "fc1"
// LOWERED:     pim.program {{.*}} {onnx_node = "fc1", kind = #pim.kind<sram>
// LOWERED:     pim.program {{.*}} {onnx_node = "fc1", kind = #pim.kind<reram>
// LOWERED:     digital.matmul {{.*}} {onnx_node = "fc1"}
// LOWERED:     digital.join {{.*}} {onnx_node = "fc1", axis = 2 : i64} : (tensor<1x4x32xf32>, tensor<1x4x32xf32>, tensor<1x4x32xf32>, tensor<1x4x32xf32>) -> tensor<1x4x128xf32>
// LOWERED:     digital.join {{.*}} {onnx_node = "fc2", axis = 2 : i64}
// LOWERED-NOT: nn.matmul

// The rule placement, as the place pass writes it: static weights fill SRAM-PIM first.
// RULE: nn.matmul {{.*}} {onnx_node = "fc1", h3pc.split = {sram_pim = 128 : i64}}
// RULE: nn.matmul {{.*}} {onnx_node = "fc2", h3pc.split = {sram_pim = 16 : i64}}

// CP-SAT: the wide layer split (the photonic tier and the host share its rows), the narrow one whole on
// the host (its 16 rows are not worth a join); all rows accounted for by the lowered parts.
// CPSAT:     digital.join {{.*}} {onnx_node = "fc1", axis = 2 : i64} : ({{.*}}) -> tensor<1x4x128xf32>
// CPSAT:     digital.matmul {{.*}} {onnx_node = "fc2"} : ({{.*}}) -> tensor<1x4x16xf32>
// CPSAT-NOT: nn.matmul

// ENERGY: nn.matmul {{.*}} {onnx_node = "fc1", h3pc.split = {{{.*}}}}
// ENERGY: nn.matmul {{.*}} {onnx_node = "fc2", h3pc.split = {{{.*}}}}

// The placement file of the chosen point (h3pc --placement-out), read back as pins: the naive split again.
// PLACEMENT: "format": "h3pc-placement"
// PLACEMENT: "node": "fc1"
// PLACEMENT: "split": {
