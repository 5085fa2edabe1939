using Tessera.Onnx.Graph;

namespace Tessera.Partitioning.TensorParallel;

/// <summary>
/// Decides the split of every linear layer, in graph order: first as the start of a Megatron block (columns, then
/// rows, no collective between); failing that, alone by columns with an AllGather, or alone by rows with an
/// AllReduce; failing that (no dimension divisible by the degree), replicated.
/// </summary>
internal static class SplitPlanner
{
    public static SplitPlan Plan(GraphIndex index, int degree)
    {
        var layers = LinearLayerFinder.Find(index);
        var plan = new SplitPlan();
        bool IsFree(LinearLayer layer) => !plan.Assignments.ContainsKey(layer.Node);

        foreach (var layer in layers.Values.OrderBy(l => index.PositionOf(l.Node)))
        {
            if (!IsFree(layer))
            {
                continue;
            }

            int block = plan.Blocks.Count + 1;
            if (RegionGrower.TryGrow(index, layers, layer, degree, IsFree, out string reason) is { } region)
            {
                AddRegion(index, plan, region, block, degree);
            }
            else if (layer.N % degree == 0 && layer.N >= degree)
            {
                Assign(plan, new LayerAssignment(layer, TensorParallelSplitKind.Column, [layer.N], Gather: true, SliceInput: false, block, KeyOf(index, layer)), degree);
                plan.Blocks.Add(new TensorParallelBlock(block, TensorParallelBlockKind.Column, [layer.Name], [], 0, 0, 1, $"not paired: {reason}"));
            }
            else if (layer.K % degree == 0 && layer.K >= degree)
            {
                Assign(plan, new LayerAssignment(layer, TensorParallelSplitKind.Row, [], Gather: false, SliceInput: true, block, KeyOf(index, layer)), degree);
                plan.Blocks.Add(new TensorParallelBlock(block, TensorParallelBlockKind.Row, [], [layer.Name], 0, 1, 0, $"not paired: {reason}"));
            }
            else
            {
                plan.Replicated.Add(new ReplicatedLayer(layer.Name,
                    $"neither K={layer.K} nor N={layer.N} is divisible by {degree} (as a block start: {reason})"));
            }
        }

        return plan;
    }

    private static void AddRegion(GraphIndex index, SplitPlan plan, Region region, int block, int degree)
    {
        var kind = region.IsAttention ? TensorParallelSplitKind.Heads : TensorParallelSplitKind.Column;
        foreach (var column in region.Columns)
        {
            int[] segments = region.Segments.TryGetValue(column, out var s) ? s : [column.N];
            Assign(plan, new LayerAssignment(column, kind, segments, Gather: false, SliceInput: false, block, KeyOf(index, column)), degree);
        }

        foreach (var row in region.Rows)
        {
            Assign(plan, new LayerAssignment(row, TensorParallelSplitKind.Row, [], Gather: false, SliceInput: false, block, KeyOf(index, row)), degree);
        }

        plan.Regions.Add(region);
        plan.Blocks.Add(new TensorParallelBlock(block, region.IsAttention ? TensorParallelBlockKind.Attention : TensorParallelBlockKind.Mlp,
            region.Columns.Select(c => c.Name).ToArray(), region.Rows.Select(r => r.Name).ToArray(), region.Heads, region.Rows.Count, 0));
    }

    private static void Assign(SplitPlan plan, LayerAssignment assignment, int degree)
    {
        var layer = assignment.Layer;
        plan.Assignments[layer.Node] = assignment;
        bool column = assignment.IsColumn;
        plan.Splits.Add(new TensorParallelSplit(layer.Name, assignment.Kind, assignment.Block, layer.K, layer.N,
            column ? layer.K : layer.K / degree, column ? layer.N / degree : layer.N));
        if (!column)
        {
            plan.Collectives.Add(new TensorParallelCollective("AllReduce", assignment.Key, layer.Name, layer.Node.Outputs[0], assignment.Block));
        }
        else if (assignment.Gather)
        {
            plan.Collectives.Add(new TensorParallelCollective("AllGather", assignment.Key, layer.Name, layer.Output, assignment.Block));
        }
    }

    // Unique because graph positions are; readable because of the node name.
    private static string KeyOf(GraphIndex index, LinearLayer layer) => $"tp{index.PositionOf(layer.Node)}:{layer.Name}";
}
