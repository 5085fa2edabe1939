namespace Tessera.Kernels.Elementwise;

/// <summary>
/// A kernel's last broadcast: the input shapes it saw, their output shape and walking plan, reused while the
/// shapes stay the same so that a steady-state run allocates neither. One per kernel (kernels never run
/// concurrently with themselves).
/// </summary>
internal sealed class BroadcastCache
{
    private int[][] _inputs = [];
    private int[] _output = [];
    private BroadcastPlan? _plan;

    /// <summary>The broadcast shape of <paramref name="shapes"/>: the same array as last time while they are unchanged. Do not mutate it.</summary>
    public int[] OutputShape(string opType, params ReadOnlySpan<int[]> shapes)
    {
        if (!Matches(shapes))
        {
            _output = BroadcastPlan.OutputShape(opType, shapes);
            var copies = new int[shapes.Length][];
            for (int i = 0; i < copies.Length; i++) copies[i] = (int[])shapes[i].Clone();
            _inputs = copies;
            _plan = null;
        }

        return _output;
    }

    /// <summary>The plan for walking <paramref name="output"/> over <paramref name="shapes"/>, cached for the shapes last given to <see cref="OutputShape"/>.</summary>
    public BroadcastPlan Plan(ReadOnlySpan<int> output, params ReadOnlySpan<int[]> shapes)
    {
        bool cacheable = Matches(shapes) && output.SequenceEqual(_output);
        if (cacheable && _plan is not null)
        {
            return _plan;
        }

        var plan = new BroadcastPlan(output, shapes);
        if (cacheable)
        {
            _plan = plan;
        }

        return plan;
    }

    private bool Matches(ReadOnlySpan<int[]> shapes)
    {
        if (shapes.Length != _inputs.Length)
        {
            return false;
        }

        for (int i = 0; i < shapes.Length; i++)
        {
            if (!shapes[i].AsSpan().SequenceEqual(_inputs[i]))
            {
                return false;
            }
        }

        return true;
    }
}
