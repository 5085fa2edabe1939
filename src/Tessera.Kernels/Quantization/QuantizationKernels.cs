using Tessera.Kernels.Core;

namespace Tessera.Kernels.Quantization;

/// <summary>Registers the ONNX quantization operators (8-bit integer forms).</summary>
public static class QuantizationKernels
{
    public static void Register(KernelRegistry registry)
    {
        // 13 added per-axis parameters (`axis`), 19 the float16/bfloat16 scales and float8 types (refused: no such
        // element types here); the kernels read the opset from KernelInfo.
        registry.Register("QuantizeLinear", 10, info => new QuantizeLinearKernel(info));
        registry.Register("DequantizeLinear", 10, info => new DequantizeLinearKernel(info));
        registry.Register("DynamicQuantizeLinear", 11, _ => new DynamicQuantizeLinearKernel());
        registry.Register("MatMulInteger", 10, info => new MatMulIntegerKernel(info));
        registry.Register("ConvInteger", 10, info => new ConvIntegerKernel(info));
        registry.Register("QLinearMatMul", 10, info => new QLinearMatMulKernel(info));
        registry.Register("QLinearConv", 10, info => new QLinearConvKernel(info));

        // What the quantization fusion passes make of quantize → integer product → dequantize chains.
        // QuantizedMatMul's W is a constant integer weight, or (dynamic=1) a float activation quantized at run time too.
        registry.Register(TesseraDomain.Name, "QuantizedMatMul", TesseraDomain.Version, info => info.ConstantInput(3) is null
            ? new QuantizedActivationsMatMulKernel(info)
            : new QuantizedMatMulKernel(info));
        registry.Register(TesseraDomain.Name, "QuantizedConv", TesseraDomain.Version, info => new QuantizedConvKernel(info));
    }
}
