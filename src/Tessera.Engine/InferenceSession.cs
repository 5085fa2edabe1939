using System.Diagnostics;
using Tessera.Engine.Optimization;
using Tessera.Engine.Profiling;
using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Onnx.Io;
using Tessera.Tensors;

namespace Tessera.Engine;

/// <summary>
/// Runs one ONNX model on this machine. Creating a session resolves a kernel for every node, folds constant
/// subgraphs and plans the order of execution; <see cref="Run(IReadOnlyDictionary{string, Tensor})"/> may then be
/// called many times, one call at a time (calls from several threads are serialised).
/// </summary>
/// <remarks>
/// Memory: intermediate values live in a session-owned arena that is reused by every run, so a session holds on
/// to its peak working set until it is collected. Outputs never alias that arena: the kernel that produces a graph
/// output writes it into the caller's storage when the caller supplies some (an allocator or its own tensors),
/// otherwise it is copied out into a tensor the caller owns and may keep. With fixed input shapes,
/// <see cref="Run(IReadOnlyDictionary{string, Tensor}, IReadOnlyDictionary{string, Tensor})"/> (outputs written
/// into the caller's tensors) allocates no managed memory after the first run. Threads: the session uses the
/// process-wide worker pool of its degree (see <see cref="ParallelRunner"/>), so there is nothing to dispose.
/// </remarks>
public sealed class InferenceSession
{
    private readonly ExecutionPlan _plan;
    private readonly ParallelRunner _parallel;
    private readonly PlanRunner _runner;

    // Storage of the session's constants (initializers, folded values): an output sharing it is copied out,
    // so that a caller writing into a returned tensor cannot change the model.
    private readonly HashSet<object> _constantStorage = new(ReferenceEqualityComparer.Instance);
    private readonly string[] _outputNames;
    private readonly object _runLock = new();
    private int _profiledRuns;

    public InferenceSession(OnnxModel model, SessionOptions? options = null)
    {
        Model = model;
        Options = options ?? new SessionOptions();
        _parallel = new ParallelRunner(Options.EffectiveThreads);
        // The plan runs the optimised copy; the caller's model (and its declared inputs and outputs) is untouched.
        var optimized = GraphOptimizer.Optimize(model, Options);
        _plan = ExecutionPlan.Build(optimized, Options, _parallel);
        var graph = optimized.Graph;
        _outputNames = graph.Outputs.Select(o => o.Name).ToArray();
        var overridable = graph.OverridableInitializers.ToDictionary(n => n, n => graph.Initializers[n], StringComparer.Ordinal);
        _runner = new PlanRunner(_plan, graph.Inputs.Select(i => i.Name).ToArray(), overridable, _outputNames, _parallel);
        foreach (var constant in _plan.Constants.Concat(overridable.Values))
        {
            if (constant?.StorageOwner is { } owner) _constantStorage.Add(owner);
        }
    }

    internal ExecutionPlan Plan => _plan;

    internal PlanRunner Runner => _runner;

    public static InferenceSession Load(string path, SessionOptions? options = null)
    {
        OnnxModel model;
        try
        {
            model = ModelReader.Load(path);
        }
        catch (Exception e) when (e is OnnxFormatException or FileNotFoundException or IOException or UnauthorizedAccessException)
        {
            throw new InferenceException(e.Message, e);
        }

        return new InferenceSession(model, options);
    }

    public OnnxModel Model { get; }

    public SessionOptions Options { get; }

    /// <summary>Inputs a caller must feed (initializers are not among them).</summary>
    public IReadOnlyList<ValueInfo> Inputs => Model.Graph.Inputs;

    public IReadOnlyList<ValueInfo> Outputs => Model.Graph.Outputs;

    /// <summary>Number of nodes left to run per call after constant folding.</summary>
    public int StepCount => _plan.Steps.Length;

    /// <summary>Bytes of intermediate-value storage the session holds (its arena), for diagnostics.</summary>
    public long ArenaBytes
    {
        get
        {
            lock (_runLock)
            {
                return _runner.Arena.TotalBytes;
            }
        }
    }

    /// <summary>Runs the model and returns every graph output by name, in the graph's output order, as tensors the caller owns.</summary>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs) => Run(inputs, allocateOutput: null);

    /// <summary>
    /// As <see cref="Run(IReadOnlyDictionary{string, Tensor})"/>, but a computed output is written into a tensor from
    /// <paramref name="allocateOutput"/> (element type, shape), directly by the kernel that produces it (copied there
    /// when it is a view or a constant), so a caller that recycles output storage (a worker sending outputs on)
    /// allocates nothing per run for them and pays no copy.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, Func<DataType, int[], Tensor>? allocateOutput)
    {
        InputValidator.Validate(Model.Graph, inputs);
        lock (_runLock)
        {
            try
            {
                if (allocateOutput is null)
                {
                    _runner.Run(inputs);
                }
                else
                {
                    _runner.Run(inputs, allocateOutput);
                }

                _profiledRuns += _runner.StepTicks is null ? 0 : 1;
                var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                for (int i = 0; i < _outputNames.Length; i++)
                {
                    var value = ComputedOutput(i);
                    bool shared = _runner.IsArenaStorage(value) || (value.StorageOwner is { } owner && _constantStorage.Contains(owner));
                    result[_outputNames[i]] = !shared ? value : allocateOutput is null || value.DataType == DataType.String ? value.Clone() : CopyInto(value, allocateOutput);
                }

                return result;
            }
            finally
            {
                _runner.Reset();
            }
        }
    }

    /// <summary>
    /// Runs the model and writes each graph output named in <paramref name="outputs"/> into the caller's tensor of
    /// that name, which must already have the output's element type and shape (a first call of
    /// <see cref="Run(IReadOnlyDictionary{string, Tensor})"/> tells them). Allocates nothing in steady state. The kernel
    /// producing an output writes straight into the caller's tensor unless that shares storage with an input, so a run
    /// that fails may leave it partly written.
    /// </summary>
    public void Run(IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyDictionary<string, Tensor> outputs)
    {
        InputValidator.Validate(Model.Graph, inputs);
        int named = 0;
        foreach (var name in _outputNames)
        {
            named += outputs.ContainsKey(name) ? 1 : 0;
        }

        if (named < outputs.Count)
        {
            string unknown = outputs.Keys.First(k => Array.IndexOf(_outputNames, k) < 0);
            throw new InferenceException($"the model has no output named '{unknown}'; its outputs are: {string.Join(", ", _outputNames)}");
        }

        lock (_runLock)
        {
            try
            {
                _runner.Run(inputs, outputs);
                _profiledRuns += _runner.StepTicks is null ? 0 : 1;
                for (int i = 0; i < _outputNames.Length; i++)
                {
                    // An output computed straight into the caller's tensor needs no copy.
                    if (outputs.TryGetValue(_outputNames[i], out var target) && !ReferenceEquals(ComputedOutput(i), target))
                    {
                        CopyOutput(_outputNames[i], ComputedOutput(i), target);
                    }
                }
            }
            finally
            {
                _runner.Reset();
            }
        }
    }

    /// <summary>Starts timing every node of every following run (a new profile each time it is called).</summary>
    public void StartProfiling()
    {
        lock (_runLock)
        {
            _runner.StepTicks = new long[_plan.Steps.Length];
            _profiledRuns = 0;
        }
    }

    /// <summary>Stops timing and returns the time per node since <see cref="StartProfiling"/>.</summary>
    public SessionProfile StopProfiling()
    {
        lock (_runLock)
        {
            var ticks = _runner.StepTicks ?? throw new InvalidOperationException("profiling was not started");
            _runner.StepTicks = null;
            var nodes = new NodeTiming[ticks.Length];
            for (int s = 0; s < ticks.Length; s++)
            {
                var node = _plan.Steps[s].Node;
                nodes[s] = new NodeTiming(s, node.DisplayName, node.OpType, ticks[s] * 1000.0 / Stopwatch.Frequency);
            }

            return new SessionProfile(_profiledRuns, nodes);
        }
    }

    private static Tensor CopyInto(Tensor value, Func<DataType, int[], Tensor> allocate)
    {
        var copy = allocate(value.DataType, (int[])value.Shape.Clone());
        value.Bytes.CopyTo(copy.Bytes);
        return copy;
    }

    private Tensor ComputedOutput(int index) =>
        _runner.Output(index) ?? throw new InferenceException($"output '{_outputNames[index]}' was not computed");

    private static void CopyOutput(string name, Tensor value, Tensor target)
    {
        if (value.DataType != target.DataType || !ShapeMath.SameShape(value.Shape, target.Shape))
        {
            throw new InferenceException($"output '{name}' is {value}, but the tensor given for it is {target}");
        }

        if (value.DataType == DataType.String)
        {
            value.Strings.CopyTo(target.Strings, 0);
        }
        else
        {
            value.Bytes.CopyTo(target.Bytes);
        }
    }
}
