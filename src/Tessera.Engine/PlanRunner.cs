using System.Diagnostics;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Engine;

/// <summary>
/// The mutable state of running one plan: the value of every slot, a reused <see cref="KernelContext"/> per step,
/// and the <see cref="BufferArena"/> that holds intermediate values. After <see cref="Run"/> the graph outputs are
/// readable with <see cref="Output"/> until <see cref="Reset"/>, which recycles all arena storage. A run may be given
/// storage for the graph outputs (<see cref="Run(IReadOnlyDictionary{string, Tensor}, Func{DataType, int[], Tensor})"/>,
/// <see cref="Run(IReadOnlyDictionary{string, Tensor}, IReadOnlyDictionary{string, Tensor})"/>): the kernel that
/// produces one writes there directly, so the session need not copy it out of the arena.
/// </summary>
/// <remarks>Nothing here allocates once the arena and the tensor headers have settled (fixed input shapes).</remarks>
internal sealed class PlanRunner : IGraphOutputProvider
{
    private readonly ExecutionPlan _plan;
    private readonly Tensor?[] _values;
    private readonly KernelContext[] _contexts;
    private readonly BufferArena _arena = new();
    private readonly (string Name, int Slot)[] _inputs;
    private readonly (string Name, int Slot, Tensor Value)[] _overridable;
    private readonly int[] _outputSlots;
    private readonly string[] _outputNames;

    // This run's graph-output storage: from an allocator, or the caller's tensors by name; what each output was given.
    private Func<DataType, int[], Tensor>? _allocateOutput;
    private IReadOnlyDictionary<string, Tensor>? _outputTensors;
    private readonly Tensor?[] _provided;

    public PlanRunner(ExecutionPlan plan, IReadOnlyList<string> inputNames, IReadOnlyDictionary<string, Tensor> overridableInitializers,
        IReadOnlyList<string> outputNames, ParallelRunner parallel)
    {
        _plan = plan;
        _values = new Tensor?[plan.SlotCount];
        _outputSlots = outputNames.Select(n => plan.Slots[n]).ToArray();
        _contexts = new KernelContext[plan.Steps.Length];
        for (int s = 0; s < _contexts.Length; s++)
        {
            var step = plan.Steps[s];
            _contexts[s] = new KernelContext(new Tensor?[step.InputSlots.Length], step.OutputSlots.Length, step.OutputRequested, parallel, _arena,
                GraphOutputsOf(step, _outputSlots), this);
        }

        _inputs = new (string, int)[inputNames.Count];
        for (int i = 0; i < _inputs.Length; i++)
        {
            _inputs[i] = (inputNames[i], plan.Slots[inputNames[i]]);
        }

        _overridable = overridableInitializers.Select(p => (p.Key, plan.Slots[p.Key], p.Value)).ToArray();
        _outputNames = [.. outputNames];
        _provided = new Tensor?[_outputSlots.Length];
    }

    /// <summary>Per output of <paramref name="step"/>, the graph output it is (the first, if listed twice), or -1; null when none is.</summary>
    private static int[]? GraphOutputsOf(ExecutionStep step, int[] outputSlots)
    {
        var indices = step.OutputSlots.Select(slot => slot < 0 ? -1 : Array.IndexOf(outputSlots, slot)).ToArray();
        return indices.Any(i => i >= 0) ? indices : null;
    }

    public BufferArena Arena => _arena;

    /// <summary>When set (diagnostics and tests), each run adds the bytes every step allocated (on this thread and, for it, on pool workers).</summary>
    public long[]? StepAllocations { get; set; }

    /// <summary>When set (profiling), each run adds the Stopwatch ticks every step took; costs one test per step when null.</summary>
    public long[]? StepTicks { get; set; }

    /// <summary>Graph output <paramref name="index"/> of the last run; when <see cref="IsArenaStorage"/>, valid only until <see cref="Reset"/>.</summary>
    public Tensor? Output(int index) => _values[_outputSlots[index]];

    public bool IsArenaStorage(Tensor tensor) => _arena.IsOwned(tensor);

    /// <summary>As <see cref="Run(IReadOnlyDictionary{string, Tensor})"/>, graph outputs computed into tensors from <paramref name="allocateOutput"/>.</summary>
    public void Run(IReadOnlyDictionary<string, Tensor> inputs, Func<DataType, int[], Tensor> allocateOutput)
    {
        _allocateOutput = allocateOutput;
        Run(inputs);
    }

    /// <summary>
    /// As <see cref="Run(IReadOnlyDictionary{string, Tensor})"/>, each graph output computed into the tensor of its name
    /// in <paramref name="outputs"/> when that has the output's type and shape and shares no storage with an input.
    /// </summary>
    public void Run(IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyDictionary<string, Tensor> outputs)
    {
        _outputTensors = outputs;
        Run(inputs);
    }

    /// <summary>Runs every step. The caller must call <see cref="Reset"/> afterwards, also when this throws.</summary>
    public void Run(IReadOnlyDictionary<string, Tensor> inputs)
    {
        Array.Copy(_plan.Constants, _values, _values.Length);
        foreach (var (name, slot, value) in _overridable)
        {
            _values[slot] = inputs.TryGetValue(name, out var given) ? given : value;
        }

        foreach (var (name, slot) in _inputs)
        {
            _values[slot] = inputs[name];
        }

        var steps = _plan.Steps;
        for (int s = 0; s < steps.Length; s++)
        {
            var step = steps[s];
            var context = _contexts[s];
            var stepInputs = context.Inputs;
            for (int i = 0; i < stepInputs.Length; i++)
            {
                int slot = step.InputSlots[i];
                stepInputs[i] = slot >= 0 ? _values[slot] : null;
            }

            long allocatedBefore = StepAllocations is null ? 0 : AllocatedOnThisThread();
            long started = StepTicks is null ? 0 : Stopwatch.GetTimestamp();
            StepRunner.Compute(step, context);
            if (StepTicks is { } ticks)
            {
                ticks[s] += Stopwatch.GetTimestamp() - started;
            }

            for (int i = 0; i < step.OutputSlots.Length; i++)
            {
                int slot = step.OutputSlots[i];
                if (slot >= 0)
                {
                    var output = context.Output(i);
                    _values[slot] = output;
                    _arena.Retain(output);
                }
            }

            _arena.EndStep();
            foreach (int slot in step.ReleaseAfter)
            {
                _arena.Release(_values[slot]);
                _values[slot] = null;
            }

            if (StepAllocations is { } allocations)
            {
                allocations[s] += AllocatedOnThisThread() - allocatedBefore;
            }

            // The context's inputs must not keep dead values (or the caller's tensors) reachable between runs.
            Array.Clear(stepInputs);
        }
    }

    // Including what pool workers allocated for loops this thread posted.
    private static long AllocatedOnThisThread() => GC.GetAllocatedBytesForCurrentThread() + ParallelRunner.HelperAllocatedBytesForCurrentThread;

    Tensor? IGraphOutputProvider.Provide(int outputIndex, DataType dataType, ReadOnlySpan<int> shape)
    {
        // Once per output and run: a kernel allocating an output twice must not get the same storage twice.
        if (_provided[outputIndex] is not null || dataType == DataType.String)
        {
            return null;
        }

        Tensor? given = null;
        if (_allocateOutput is { } allocate)
        {
            given = allocate(dataType, shape.ToArray());
        }
        else if (_outputTensors is { } outputs && outputs.TryGetValue(_outputNames[outputIndex], out var target)
            && target.DataType == dataType && ShapeMath.SameShape(target.Shape, shape) && !SharesStorage(target))
        {
            given = target;
        }

        _provided[outputIndex] = given;
        return given;
    }

    /// <summary>Whether a caller's output tensor overlaps an input (the kernel would overwrite what it reads) or another output.</summary>
    private bool SharesStorage(Tensor target)
    {
        var bytes = target.Bytes;
        foreach (var (_, slot) in _inputs)
        {
            if (_values[slot] is { DataType: not DataType.String } input && bytes.Overlaps(input.Bytes))
            {
                return true;
            }
        }

        foreach (var (_, slot, _) in _overridable)
        {
            if (_values[slot] is { DataType: not DataType.String } input && bytes.Overlaps(input.Bytes))
            {
                return true;
            }
        }

        foreach (var provided in _provided)
        {
            if (provided is not null && bytes.Overlaps(provided.Bytes))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Forgets the last run's values and makes all arena storage free for the next run.</summary>
    public void Reset()
    {
        _allocateOutput = null;
        _outputTensors = null;
        Array.Clear(_provided);
        Array.Clear(_values);
        foreach (var context in _contexts)
        {
            Array.Clear(context.Inputs);
            context.ClearOutputs();
        }

        _arena.ReleaseAll();
    }
}
