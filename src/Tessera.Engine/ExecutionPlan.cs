using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Engine;

/// <summary>
/// A graph lowered for execution: values numbered into slots, nodes in a valid order with their kernels, constant
/// subgraphs already computed, and for each step the slots that can be released once it has run.
/// </summary>
internal sealed class ExecutionPlan
{
    private ExecutionPlan(Tensor?[] constants, ExecutionStep[] steps, Dictionary<string, int> slots)
    {
        Constants = constants;
        Steps = steps;
        Slots = slots;
    }

    /// <summary>Per slot, the constant value (initializer or folded result), or null for values computed per run.</summary>
    public Tensor?[] Constants { get; }

    public ExecutionStep[] Steps { get; }

    public Dictionary<string, int> Slots { get; }

    public int SlotCount => Constants.Length;

    public static ExecutionPlan Build(OnnxModel model, SessionOptions options, ParallelRunner parallel)
    {
        var graph = model.Graph;
        var slots = new Dictionary<string, int>(StringComparer.Ordinal);
        int SlotOf(string name) => slots.TryGetValue(name, out int s) ? s : slots[name] = slots.Count;

        var constants = new List<Tensor?>();
        void SetConstant(int slot, Tensor? value)
        {
            while (constants.Count <= slot) constants.Add(null);
            constants[slot] = value;
        }

        foreach (var value in graph.Inputs.Concat(graph.Outputs))
        {
            if (value.NonTensorKind is { } kind)
            {
                throw new InferenceException($"unsupported value type: '{value.Name}' is a {kind}; Tessera runs tensors only");
            }
        }

        foreach (var input in graph.Inputs) SlotOf(input.Name);
        foreach (var (name, tensor) in graph.Initializers)
        {
            // An initializer a caller may override is not a constant for folding purposes.
            SetConstant(SlotOf(name), graph.OverridableInitializers.Contains(name) ? null : tensor);
        }

        var order = TopologicalOrder.Sort(graph);
        var graphOutputs = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        var consumers = new HashSet<string>(order.SelectMany(n => n.Inputs).Where(n => n.Length > 0), StringComparer.Ordinal);
        var steps = new List<ExecutionStep>();
        foreach (var node in order)
        {
            int opset = model.OpsetFor(node.Domain);
            if (!options.Registry.TryResolve(node.Domain, node.OpType, opset, out var factory))
            {
                string domain = node.Domain.Length > 0 ? $" (domain {node.Domain})" : string.Empty;
                throw new InferenceException($"unsupported operator {node.OpType}{domain} at opset {opset} in node '{node.DisplayName}'");
            }

            int[] inputSlots = node.Inputs.Select(n => n.Length == 0 ? -1 : SlotOf(n)).ToArray();
            int[] outputSlots = node.Outputs.Select(n => n.Length == 0 ? -1 : SlotOf(n)).ToArray();
            bool[] requested = node.Outputs.Select(n => n.Length > 0 && (consumers.Contains(n) || graphOutputs.Contains(n))).ToArray();
            Tensor? ConstantAt(int i) => inputSlots[i] >= 0 && inputSlots[i] < constants.Count ? constants[inputSlots[i]] : null;

            IKernel kernel;
            try
            {
                kernel = factory(new KernelInfo(node.OpType, node.Domain, opset, node.DisplayName, node.Inputs.Count,
                    node.Outputs.Count, node.Attributes, ConstantAt, parallel) { Communicator = options.Communicator });
            }
            catch (Exception e) when (e is KernelException or ArgumentException or NotSupportedException or InvalidOperationException)
            {
                throw new InferenceException($"node '{node.DisplayName}' ({node.OpType}): {e.Message}", e);
            }

            var step = new ExecutionStep(node, kernel, inputSlots, outputSlots, requested);
            bool foldable = options.FoldConstants && !IsNondeterministic(node.OpType)
                && Enumerable.Range(0, inputSlots.Length).All(i => inputSlots[i] < 0 || ConstantAt(i) is not null);
            if (foldable)
            {
                var inputs = Enumerable.Range(0, inputSlots.Length).Select(ConstantAt).ToArray();
                var outputs = StepRunner.Run(step, inputs, parallel);
                for (int i = 0; i < outputSlots.Length; i++)
                {
                    if (outputSlots[i] >= 0) SetConstant(outputSlots[i], outputs[i]);
                }
            }
            else
            {
                steps.Add(step);
            }
        }

        foreach (var output in graph.Outputs)
        {
            if (!slots.ContainsKey(output.Name))
            {
                throw new InferenceException($"graph output '{output.Name}' is produced by no node, input or initializer");
            }
        }

        while (constants.Count < slots.Count) constants.Add(null);
        var plan = new ExecutionPlan([.. constants], [.. steps], slots);
        plan.AssignReleases(graph.Outputs.Select(o => slots[o.Name]).ToHashSet());
        return plan;
    }

    private void AssignReleases(HashSet<int> outputSlots)
    {
        var lastUse = new Dictionary<int, int>();
        for (int s = 0; s < Steps.Length; s++)
        {
            foreach (int slot in Steps[s].InputSlots) if (slot >= 0) lastUse[slot] = s;
            foreach (int slot in Steps[s].OutputSlots) if (slot >= 0) lastUse.TryAdd(slot, s);
        }

        var releases = new List<int>[Steps.Length];
        foreach (var (slot, step) in lastUse)
        {
            if (Constants[slot] is null && !outputSlots.Contains(slot))
            {
                (releases[step] ??= []).Add(slot);
            }
        }

        for (int s = 0; s < Steps.Length; s++)
        {
            Steps[s].ReleaseAfter = releases[s]?.ToArray() ?? [];
        }
    }

    private static bool IsNondeterministic(string opType) =>
        opType is "RandomNormal" or "RandomUniform" or "RandomNormalLike" or "RandomUniformLike" or "Multinomial" or "Bernoulli"
            // Collectives must run on every rank together at run time, never alone while one session is built.
            or "AllReduce" or "AllGather";
}
