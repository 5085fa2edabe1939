namespace Tessera.Kernels.Fused;

/// <summary>The activations a fused Conv, Gemm or MatMul may apply to its output (attribute `activation`).</summary>
internal enum ActivationKind
{
    None,
    Relu,
    LeakyRelu,
    Clip,
    HardSigmoid,
    HardSwish,
    Sigmoid,
    Tanh,
    Gelu,
    GeluTanh,
}
