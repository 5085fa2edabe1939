using System.Diagnostics;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Engine;

/// <summary>
/// The mutable state of running one plan: the value of every slot, a reused <see cref="KernelContext"/> per step,
/// and the <see cref="BufferArena"/> that holds intermediate values. After <see cref="Run"/> the graph outputs are
/// readable with <see cref="Output"/> until <see cref="Reset"/>, which recycles all arena storage.
/// </summary>
/// <remarks>Nothing here allocates once the arena and the tensor headers have settled (fixed input shapes).</remarks>
internal sealed class PlanRunner
{
    private readonly ExecutionPlan _plan;
    private readonly Tensor?[] _values;
    private readonly KernelContext[] _contexts;
    private readonly BufferArena _arena = new();
    private readonly (string Name, int Slot)[] _inputs;
    private readonly (string Name, int Slot, Tensor Value)[] _overridable;
    private readonly int[] _outputSlots;

    public PlanRunner(ExecutionPlan plan, IReadOnlyList<string> inputNames, IReadOnlyDictionary<string, Tensor> overridableInitializers,
        IReadOnlyList<string> outputNames, ParallelRunner parallel)
    {
        _plan = plan;
        _values = new Tensor?[plan.SlotCount];
        _contexts = new KernelContext[plan.Steps.Length];
        for (int s = 0; s < _contexts.Length; s++)
        {
            var step = plan.Steps[s];
            _contexts[s] = new KernelContext(new Tensor?[step.InputSlots.Length], step.OutputSlots.Length, step.OutputRequested, parallel, _arena);
        }

        _inputs = new (string, int)[inputNames.Count];
        for (int i = 0; i < _inputs.Length; i++)
        {
            _inputs[i] = (inputNames[i], plan.Slots[inputNames[i]]);
        }

        _overridable = overridableInitializers.Select(p => (p.Key, plan.Slots[p.Key], p.Value)).ToArray();
        _outputSlots = outputNames.Select(n => plan.Slots[n]).ToArray();
    }

    public BufferArena Arena => _arena;

    /// <summary>When set (diagnostics and tests), each run adds the bytes every step allocated (on this thread and, for it, on pool workers).</summary>
    public long[]? StepAllocations { get; set; }

    /// <summary>When set (profiling), each run adds the Stopwatch ticks every step took; costs one test per step when null.</summary>
    public long[]? StepTicks { get; set; }

    /// <summary>Graph output <paramref name="index"/> of the last run; when <see cref="IsArenaStorage"/>, valid only until <see cref="Reset"/>.</summary>
    public Tensor? Output(int index) => _values[_outputSlots[index]];

    public bool IsArenaStorage(Tensor tensor) => _arena.IsOwned(tensor);

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

    /// <summary>Forgets the last run's values and makes all arena storage free for the next run.</summary>
    public void Reset()
    {
        Array.Clear(_values);
        foreach (var context in _contexts)
        {
            Array.Clear(context.Inputs);
            context.ClearOutputs();
        }

        _arena.ReleaseAll();
    }
}
