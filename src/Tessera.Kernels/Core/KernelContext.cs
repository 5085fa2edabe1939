using Tessera.Tensors;

namespace Tessera.Kernels.Core;

/// <summary>
/// The inputs and outputs of one computation of a node. The executor fills the inputs; the kernel produces
/// each requested output with <see cref="AllocateOutput"/> (new storage the executor may take from its plan)
/// or <see cref="SetOutput"/> (an existing tensor, for instance a view of an input).
/// </summary>
public sealed class KernelContext
{
    private readonly Tensor?[] _inputs;
    private readonly Tensor?[] _outputs;
    private readonly bool[] _outputRequested;

    public KernelContext(Tensor?[] inputs, int outputCount, bool[] outputRequested, ParallelRunner parallel)
    {
        _inputs = inputs;
        _outputs = new Tensor?[outputCount];
        _outputRequested = outputRequested;
        Parallel = parallel;
    }

    public ParallelRunner Parallel { get; }

    public int InputCount => _inputs.Length;

    public int OutputCount => _outputs.Length;

    /// <summary>Input <paramref name="index"/>, or null when it was omitted (optional input) or is beyond the node's inputs.</summary>
    public Tensor? Input(int index) => index < _inputs.Length ? _inputs[index] : null;

    public Tensor RequiredInput(int index, string role = "input") =>
        Input(index) ?? throw new KernelException($"{role} {index} is required but missing");

    /// <summary>Whether anything consumes output <paramref name="index"/>; kernels may skip optional outputs nobody reads.</summary>
    public bool IsOutputRequested(int index) => index < _outputRequested.Length && _outputRequested[index];

    public Tensor AllocateOutput(int index, DataType dataType, ReadOnlySpan<int> shape)
    {
        var tensor = Tensor.Allocate(dataType, shape);
        _outputs[index] = tensor;
        return tensor;
    }

    public void SetOutput(int index, Tensor tensor) => _outputs[index] = tensor;

    public Tensor? Output(int index) => _outputs[index];
}
