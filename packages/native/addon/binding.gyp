{
  "targets": [
    {
      "target_name": "ipc_native",
      "sources": ["ipc_native.cc"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wno-cast-function-type"],
      # never unloaded: Node unloads an addon when the last thread that loaded it exits, but
      # buffer deleters, waiter threads and a worker's closing handles still run its code then
      "ldflags": ["-Wl,-z,nodelete"],
      "conditions": [["OS!='linux'", { "type": "none" }]]
    }
  ]
}
