{
  "targets": [
    {
      "target_name": "ipc_native",
      "sources": ["ipc_native.cc"],
      # the C++ standard is the one Node's own common.gypi sets (C++17 on Node 20, C++20 from
      # Node 24, whose V8 headers require it): forcing one breaks the other
      "cflags_cc": ["-O2", "-Wno-cast-function-type"],
      # never unloaded: Node unloads an addon when the last thread that loaded it exits, but
      # buffer deleters, waiter threads and a worker's closing handles still run its code then
      "ldflags": ["-Wl,-z,nodelete"],
      "conditions": [["OS!='linux'", { "type": "none" }]]
    }
  ]
}
