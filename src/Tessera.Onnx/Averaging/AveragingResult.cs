using Tessera.Onnx.Graph;

namespace Tessera.Onnx.Averaging;

/// <summary>What <see cref="ModelAverager.Average"/> made.</summary>
/// <param name="Model">The averaged model: the first model's graph with averaged parameters (the inputs are not modified).</param>
/// <param name="Weights">The weights used, normalised to sum 1, in model order.</param>
/// <param name="AveragedTensors">Floating point tensors whose values differed between models and were averaged.</param>
/// <param name="AveragedValues">Elements in those tensors.</param>
/// <param name="IdenticalTensors">Floating point tensors bit-identical in every model, kept as they are.</param>
/// <param name="CheckedEqualTensors">Integer, bool and string tensors, which must be (and were) equal in every model.</param>
public sealed record AveragingResult(
    OnnxModel Model, IReadOnlyList<double> Weights, int AveragedTensors, long AveragedValues, int IdenticalTensors, int CheckedEqualTensors);
