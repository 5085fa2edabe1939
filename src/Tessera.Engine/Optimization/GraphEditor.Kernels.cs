using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;

namespace Tessera.Engine.Optimization;

/// <summary>Whether the session's registry can run a node a pass is about to introduce.</summary>
internal sealed partial class GraphEditor
{
    private readonly Dictionary<string, bool> _accepted = new(StringComparer.Ordinal);

    /// <summary>
    /// True when a kernel is registered for the node at the model's opset (after <see cref="UseTesseraDomain"/> for
    /// com.tessera) and accepts its attributes. The first node of each operator and attribute combination is built
    /// once to find out, with its real constant inputs, so an activation a fused kernel does not know is skipped
    /// instead of failing the session.
    /// </summary>
    public bool CanRun(OnnxNode node)
    {
        string domain = OnnxNode.NormalizeDomain(node.Domain);
        int opset = domain == TesseraDomain.Name ? TesseraDomain.Version : Model.OpsetFor(domain);
        if (!Registry.TryResolve(domain, node.OpType, opset, out var factory)) return false;

        string key = $"{domain}:{node.OpType}:{node.Inputs.Count}:{string.Join(";", node.Attributes.Values.Where(a => a.Kind == AttributeKind.String).Select(a => a.ToString()))}";
        if (_accepted.TryGetValue(key, out bool accepted)) return accepted;
        try
        {
            var info = new KernelInfo(node.OpType, domain, opset, node.DisplayName, node.Inputs.Count, node.Outputs.Count,
                node.Attributes, i => Constant(node.Inputs[i]), ParallelRunner.Sequential);
            _ = factory(info);
            accepted = true;
        }
        catch (Exception e) when (e is KernelException or ArgumentException or NotSupportedException or InvalidOperationException)
        {
            accepted = false;
        }

        _accepted[key] = accepted;
        return accepted;
    }
}
