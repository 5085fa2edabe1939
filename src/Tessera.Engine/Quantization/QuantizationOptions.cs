using Tessera.Tensors;

namespace Tessera.Engine.Quantization;

/// <summary>What `tessera quantize` was asked to do.</summary>
public sealed class QuantizationOptions
{
    public QuantizationMode Mode { get; init; } = QuantizationMode.Dynamic;

    /// <summary>One scale per output channel of each weight instead of one per weight.</summary>
    public bool PerChannel { get; init; }

    /// <summary>
    /// 7-bit weights ([-64, 64], scale max|w| / 64: ONNX Runtime's reduce_range): a step coarser, but the integer GEMM
    /// multiplies them with vpmaddubsw (no saturation) on machines without VNNI. Gather tables stay 8-bit.
    /// </summary>
    public bool ReduceRange { get; init; }

    /// <summary>
    /// Dynamic mode: also MatMuls whose inputs are both activations (attention's Q·Kᵀ and P·V), each input by a
    /// DynamicQuantizeLinear of its own, as ONNX Runtime's quantize_dynamic does. Static mode leaves them in float.
    /// </summary>
    public bool ActivationMatMuls { get; init; } = true;

    /// <summary>Operator types to quantize (MatMul, Gemm, Conv, Gather).</summary>
    public IReadOnlySet<string> Operators { get; init; } = new HashSet<string>(["MatMul", "Gemm", "Conv"], StringComparer.Ordinal);

    /// <summary>Node names left in float.</summary>
    public IReadOnlySet<string> Excluded { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Sample inputs for static calibration, one dictionary per sample.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, Tensor>> Calibration { get; init; } = [];

    public static IReadOnlySet<string> SupportedOperators { get; } = new HashSet<string>(["MatMul", "Gemm", "Conv", "Gather"], StringComparer.Ordinal);
}
