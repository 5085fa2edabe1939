using Tessera.Tensors;

namespace Tessera.Kernels.Core;

/// <summary>
/// The inputs and outputs of one computation of a node. The executor fills the inputs; the kernel produces
/// each requested output with <see cref="AllocateOutput"/> (new storage the executor may take from its plan),
/// <see cref="SetOutputView"/> (a view of an input's storage) or <see cref="SetOutput"/> (an existing tensor).
/// </summary>
/// <remarks>
/// An executor may keep one context per node and compute it many times: the tensor headers a computation
/// produced are then reused by the next one when they describe the same storage and shape, so that a steady
/// state with fixed shapes allocates nothing.
/// </remarks>
public sealed unsafe class KernelContext
{
    private readonly Tensor?[] _inputs;
    private readonly Tensor?[] _outputs;
    private readonly bool[] _outputRequested;
    private readonly IOutputStorage? _storage;

    // Per output, the graph output it is (-1 when none), whose storage the provider may supply; null when no output is one.
    private readonly int[]? _graphOutputs;
    private readonly IGraphOutputProvider? _provider;

    // Per output, the header the last computation produced, offered again when storage and shape match.
    private readonly Tensor?[] _previous;

    public KernelContext(Tensor?[] inputs, int outputCount, bool[] outputRequested, ParallelRunner parallel)
        : this(inputs, outputCount, outputRequested, parallel, null)
    {
    }

    internal KernelContext(Tensor?[] inputs, int outputCount, bool[] outputRequested, ParallelRunner parallel, IOutputStorage? storage,
        int[]? graphOutputs = null, IGraphOutputProvider? provider = null)
    {
        _graphOutputs = graphOutputs;
        _provider = provider;
        _inputs = inputs;
        _outputs = new Tensor?[outputCount];
        _previous = new Tensor?[outputCount];
        _outputRequested = outputRequested;
        _storage = storage;
        Parallel = parallel;
    }

    public ParallelRunner Parallel { get; }

    public int InputCount => _inputs.Length;

    public int OutputCount => _outputs.Length;

    /// <summary>The input array, which an executor that reuses this context refills before each computation.</summary>
    internal Tensor?[] Inputs => _inputs;

    /// <summary>Input <paramref name="index"/>, or null when it was omitted (optional input) or is beyond the node's inputs.</summary>
    public Tensor? Input(int index) => index < _inputs.Length ? _inputs[index] : null;

    public Tensor RequiredInput(int index, string role = "input") =>
        Input(index) ?? throw new KernelException($"{role} {index} is required but missing");

    /// <summary>Whether anything consumes output <paramref name="index"/>; kernels may skip optional outputs nobody reads.</summary>
    public bool IsOutputRequested(int index) => index < _outputRequested.Length && _outputRequested[index];

    /// <summary>A new output with uninitialized contents (possibly recycled storage: never assume zeros).</summary>
    public Tensor AllocateOutput(int index, DataType dataType, ReadOnlySpan<int> shape)
    {
        Tensor tensor;
        if (_graphOutputs is { } graphOutputs && graphOutputs[index] >= 0 && _provider!.Provide(graphOutputs[index], dataType, shape) is { } provided)
        {
            tensor = provided;
        }
        else if (_storage is null || dataType == DataType.String)
        {
            tensor = Tensor.Allocate(dataType, shape);
        }
        else
        {
            long bytes = (long)ShapeMath.ElementCount(shape) * DataTypes.SizeOf(dataType);
            if (bytes > int.MaxValue - Tensor.Alignment || DataTypes.SizeOf(dataType) == 0)
            {
                tensor = Tensor.Allocate(dataType, shape); // reports the problem as Tensor does
            }
            else
            {
                byte* data = _storage.Rent((int)bytes, out object owner);
                var previous = _previous[index];
                tensor = previous is not null && previous.Pointer == data && previous.DataType == dataType && previous.Shape.AsSpan().SequenceEqual(shape)
                    ? previous
                    : Tensor.FromPointer(dataType, shape, data, owner);
            }
        }

        _previous[index] = tensor;
        _outputs[index] = tensor;
        return tensor;
    }

    /// <summary>
    /// Sets output <paramref name="index"/> to a view of <paramref name="source"/>'s storage starting
    /// <paramref name="elementOffset"/> elements in, with <paramref name="shape"/> (which must fit); no copy.
    /// </summary>
    public Tensor SetOutputView(int index, Tensor source, int elementOffset, ReadOnlySpan<int> shape)
    {
        Tensor view;
        if (source.DataType == DataType.String)
        {
            view = elementOffset == 0 ? source.Reshape(shape) : throw new ArgumentException("string tensors have no offset views");
        }
        else
        {
            int count = ShapeMath.ElementCount(shape);
            if (elementOffset < 0 || (long)elementOffset + count > source.Length)
            {
                throw new ArgumentException($"a view of {count} elements at {elementOffset} does not fit in {source}");
            }

            byte* data = source.Pointer + ((long)elementOffset * source.ElementSize);
            var previous = _previous[index];
            if (previous is not null && previous.Pointer == data && previous.DataType == source.DataType
                && ReferenceEquals(previous.StorageOwner, source.StorageOwner) && previous.Shape.AsSpan().SequenceEqual(shape))
            {
                view = previous;
            }
            else
            {
                view = elementOffset == 0 && count == source.Length ? source.Reshape(shape) : Tensor.FromPointer(source.DataType, shape, data, source);
            }
        }

        _previous[index] = view;
        _outputs[index] = view;
        return view;
    }

    public void SetOutput(int index, Tensor tensor) => _outputs[index] = tensor;

    public Tensor? Output(int index) => _outputs[index];

    /// <summary>Forgets the outputs of the last computation (keeping their headers for reuse) before computing again.</summary>
    internal void ClearOutputs() => Array.Clear(_outputs);
}
