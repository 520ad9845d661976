{
  "targets": [
    {
      "target_name": "ipc_native",
      "sources": ["ipc_native.cc"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wno-cast-function-type"],
      "conditions": [["OS!='linux'", { "type": "none" }]]
    }
  ]
}
