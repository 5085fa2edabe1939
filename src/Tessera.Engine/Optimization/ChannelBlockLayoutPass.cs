using Tessera.Kernels.Convolution;
using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Engine.Optimization;

/// <summary>
/// Keeps activations channel-blocked from one convolution to the next, as ONNX Runtime keeps NCHWc: a FusedConv whose
/// output is read only by FusedConvs, as their X or their residual sum, writes it channel-blocked (attribute y_blocked)
/// and they read it so (x_blocked, sum_blocked), when the producer and every reader run ChannelBlockedConv at the graph's
/// static shapes on this machine's SIMD tier (<see cref="ConvKernel.KeepsChannelBlocked"/>, the kernel's own choice).
/// The producer then stores each pixel's 16 channels of a block as one vector instead of transposing its tiles into
/// NCHW, and the reader copies blocks into its interleaved layout instead of transposing NCHW planes. A plain Conv
/// (ResNet's 1x1 stride-2 downsample, which has no activation to fuse) takes part as a FusedConv without activation,
/// the same kernel; a strided 1x1 kernel runs ChannelBlockedConv only when its X is blocked, so it is asked as a reader
/// of a blocked X and, as a producer, only once its X was blocked (producers come in graph order). Same arithmetic
/// in another storage order: the outputs' bits do not change. Graph outputs and every other reader see NCHW; a
/// kernel that meets other shapes at run time converts (ConvKernel). Runs last, on the fused graph.
/// </summary>
internal sealed class ChannelBlockLayoutPass : IGraphPass
{
    public string Name => "channel-block-layout";

    public GraphOptimizationLevel Level => GraphOptimizationLevel.All;

    public bool Apply(GraphEditor graph)
    {
        if (!graph.Registry.TryResolve(TesseraDomain.Name, "FusedConv", TesseraDomain.Version, out var factory)
            || !KernelRegistry.Default.TryResolve(TesseraDomain.Name, "FusedConv", TesseraDomain.Version, out var ours) || !factory.Equals(ours))
        {
            // Another registry's FusedConv would not know the layout attributes.
            return false;
        }

        bool changed = false;
        var keeps = new Dictionary<(OnnxNode, bool), bool>();
        foreach (var producer in graph.Nodes.ToList())
        {
            if (!graph.IsLive(producer) || producer.Attributes.ContainsKey("y_blocked") || !Keeps(graph, producer, Has(producer, "x_blocked"), keeps)) continue;
            string value = producer.Outputs[0];
            var readers = graph.Consumers(value);
            if (graph.IsPinned(value) || readers.Count == 0
                || !readers.All(r => ReadsAsXOrSum(r, value) && Keeps(graph, r, r.Inputs[0] == value || Has(r, "x_blocked"), keeps))) continue;

            Set(graph, producer, "y_blocked");
            foreach (var reader in readers)
            {
                if (reader.Inputs[0] == value) Set(graph, reader, "x_blocked");
                if (reader.Inputs.Count > 3 && reader.Inputs[3] == value) Set(graph, reader, "sum_blocked");
            }

            graph.Log($"{producer} writes {value} channel-blocked for {string.Join(", ", readers)}");
            changed = true;
        }

        return changed;
    }

    /// <summary>
    /// Whether a node is a FusedConv (or a plain Conv, which would become one) that runs ChannelBlockedConv with blocked
    /// operands at its static shapes, X blocked or not as <paramref name="xBlocked"/> says.
    /// </summary>
    private static bool Keeps(GraphEditor graph, OnnxNode node, bool xBlocked, Dictionary<(OnnxNode, bool), bool> keeps)
    {
        if (keeps.TryGetValue((node, xBlocked), out bool known)) return known;
        bool result = false;
        if (IsConv(node) && node.Outputs.Count == 1 && node.Inputs.Count >= 2
            && graph.ElementType(node.Inputs[0]) == DataType.Float32 && StaticShape(graph, node.Inputs[0]) is { } x
            && graph.Constant(node.Inputs[1]) is { DataType: DataType.Float32 } w)
        {
            var info = new KernelInfo("FusedConv", TesseraDomain.Name, TesseraDomain.Version, node.DisplayName, node.Inputs.Count,
                node.Outputs.Count, node.Attributes, i => graph.Constant(node.Inputs[i]), ParallelRunner.Sequential);
            try
            {
                result = ConvKernel.KeepsChannelBlocked(info, x, w.Shape, xBlocked);
            }
            catch (KernelException)
            {
                // Attributes the kernel rejects: the session reports them when it builds the kernel.
            }
        }

        keeps[(node, xBlocked)] = result;
        return result;
    }

    /// <summary>A FusedConv, or an ONNX Conv (at most 3 inputs, no fused attributes) that FusedConv computes alike.</summary>
    private static bool IsConv(OnnxNode node) =>
        (node.OpType == "FusedConv" && node.Domain == TesseraDomain.Name)
        || (node.OpType == "Conv" && OnnxNode.NormalizeDomain(node.Domain).Length == 0 && node.Inputs.Count <= 3);

    private static bool Has(OnnxNode node, string attribute) => node.Attributes.ContainsKey(attribute);

    /// <summary>X's shape with a batch of 1 (the kernel's choice does not depend on it), when channels and planes are known.</summary>
    private static int[]? StaticShape(GraphEditor graph, string value)
    {
        var shape = graph.Shape(value);
        if (shape is null || shape.Length != 4 || shape.Skip(1).Any(d => d.Value is not > 0 || d.Value > int.MaxValue)) return null;
        return [1, (int)shape[1].Value!.Value, (int)shape[2].Value!.Value, (int)shape[3].Value!.Value];
    }

    /// <summary>Whether the node reads the value only as X (input 0) or as the residual sum (input 3).</summary>
    private static bool ReadsAsXOrSum(OnnxNode node, string value)
    {
        for (int i = 0; i < node.Inputs.Count; i++)
        {
            if (node.Inputs[i] == value && i != 0 && i != 3) return false;
        }

        return true;
    }

    /// <summary>Sets a layout attribute, making a plain Conv the FusedConv (no activation) that reads it.</summary>
    private static void Set(GraphEditor graph, OnnxNode node, string attribute)
    {
        if (node.OpType == "Conv")
        {
            graph.UseTesseraDomain();
            node.OpType = "FusedConv";
            node.Domain = TesseraDomain.Name;
        }

        node.Attributes[attribute] = new NodeAttribute { Name = attribute, Kind = AttributeKind.Int, Int = 1 };
    }
}
