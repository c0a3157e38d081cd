# lit configuration for quant-opt's IR tests (test/lit/**.mlir).
import os
import lit.formats

config.name = "quant-opt"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.join(os.path.dirname(__file__), "lit")
config.test_exec_root = os.path.join(config.qo_obj_root, "test", "lit")

# FileCheck, not, count from the llvm-22 install; our tools from the build.
config.environment["PATH"] = os.pathsep.join(
    [config.qo_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", os.environ.get("PATH", ""))])
config.substitutions.append(("%quant_opt", os.path.join(config.qo_tools_dir, "quant-opt")))
config.substitutions.append(("%qo_run", os.path.join(config.qo_tools_dir, "qo-run")))
config.substitutions.append(("%qo_model_threads", os.path.join(config.qo_tools_dir, "qo-model-threads")))
config.substitutions.append(("%qo_int8_ref", os.path.join(config.qo_tools_dir, "qo-int8-ref")))
config.substitutions.append(("%python", "/usr/bin/python3"))
config.substitutions.append(("%examples", os.path.join(config.qo_src_root, "examples")))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))
config.substitutions.append(("%onnx_testdata", "/usr/share/libonnx-testdata/data"))
