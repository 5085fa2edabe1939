using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Partitioning.TensorParallel;

/// <summary>
/// A MatMul or Gemm whose weight is a constant 2-D tensor: y = x · W (+ bias), with W seen as [K, N] whatever its
/// stored layout. A MatMul's bias is the Add that alone reads its output with a constant [N] vector.
/// </summary>
internal sealed class LinearLayer
{
    public required OnnxNode Node { get; init; }

    /// <summary>The input x (MatMul's A, Gemm's A with transA = 0).</summary>
    public required string Input { get; init; }

    public required string WeightName { get; init; }

    public required Tensor Weight { get; init; }

    /// <summary>Gemm with transB = 1 stores W as [N, K].</summary>
    public bool WeightTransposed { get; init; }

    public int K => WeightTransposed ? Weight.Shape[1] : Weight.Shape[0];

    public int N => WeightTransposed ? Weight.Shape[0] : Weight.Shape[1];

    /// <summary>The MatMul's bias Add node, if any (null for Gemm, whose bias is its input C).</summary>
    public OnnxNode? BiasAdd { get; init; }

    /// <summary>Input index of the bias vector in <see cref="BiasAdd"/>.</summary>
    public int BiasInput { get; init; }

    /// <summary>Gemm's constant C, or null.</summary>
    public Tensor? GemmBias { get; init; }

    /// <summary>The layer's result: the bias Add's output, or the MatMul/Gemm's own.</summary>
    public string Output => BiasAdd?.Outputs[0] ?? Node.Outputs[0];

    public string Name => Node.DisplayName;

    public bool IsGemm => Node.OpType == "Gemm";

    public override string ToString() => $"{Node.OpType} '{Name}' [{K}x{N}]";
}
