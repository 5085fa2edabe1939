using Tessera.Engine.Optimization;
using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Onnx.Io;
using Tessera.Tensors;

namespace Tessera.Engine;

/// <summary>
/// Runs one ONNX model on this machine. Creating a session resolves a kernel for every node, folds constant
/// subgraphs and plans the order of execution; <see cref="Run"/> may then be called many times, one call at a time.
/// </summary>
public sealed class InferenceSession
{
    private readonly ExecutionPlan _plan;
    private readonly ParallelRunner _parallel;
    private readonly object _runLock = new();

    public InferenceSession(OnnxModel model, SessionOptions? options = null)
    {
        Model = model;
        Options = options ?? new SessionOptions();
        _parallel = new ParallelRunner(Options.EffectiveThreads);
        _plan = ExecutionPlan.Build(GraphOptimizer.Optimize(model, Options), Options, _parallel);
    }

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

    /// <summary>Runs the model and returns every graph output by name, in the graph's output order.</summary>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs)
    {
        InputValidator.Validate(Model.Graph, inputs);
        lock (_runLock)
        {
            return RunUnsynchronized(inputs);
        }
    }

    private Dictionary<string, Tensor> RunUnsynchronized(IReadOnlyDictionary<string, Tensor> inputs)
    {
        var values = (Tensor?[])_plan.Constants.Clone();
        foreach (var name in Model.Graph.OverridableInitializers)
        {
            values[_plan.Slots[name]] = Model.Graph.Initializers[name];
        }

        foreach (var (name, tensor) in inputs)
        {
            values[_plan.Slots[name]] = tensor;
        }

        foreach (var step in _plan.Steps)
        {
            var stepInputs = new Tensor?[step.InputSlots.Length];
            for (int i = 0; i < stepInputs.Length; i++)
            {
                int slot = step.InputSlots[i];
                stepInputs[i] = slot >= 0 ? values[slot] : null;
            }

            var outputs = StepRunner.Run(step, stepInputs, _parallel);
            for (int i = 0; i < outputs.Length; i++)
            {
                if (step.OutputSlots[i] >= 0)
                {
                    values[step.OutputSlots[i]] = outputs[i];
                }
            }

            foreach (int slot in step.ReleaseAfter)
            {
                values[slot] = null;
            }
        }

        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var output in Model.Graph.Outputs)
        {
            result[output.Name] = values[_plan.Slots[output.Name]]
                ?? throw new InferenceException($"output '{output.Name}' was not computed");
        }

        return result;
    }
}
