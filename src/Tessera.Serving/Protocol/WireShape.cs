namespace Tessera.Serving.Protocol;

/// <summary>The limits every request reader puts on a tensor's declared shape before anything is allocated for it.</summary>
internal static class WireShape
{
    /// <summary>Most dimensions of one tensor.</summary>
    public const int MaxRank = 16;

    /// <summary>Largest number of elements one input may declare.</summary>
    public const long MaxElements = int.MaxValue / 8;

    /// <summary>The dimensions as ints; 400 for a negative dimension, too many dimensions or too many elements.</summary>
    public static int[] Check(ReadOnlySpan<long> dims)
    {
        if (dims.Length > MaxRank) throw ServingException.BadRequest($"a shape may have at most {MaxRank} dimensions");
        var shape = new int[dims.Length];
        long elements = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            long d = dims[i];
            if (d < 0) throw ServingException.BadRequest("\"shape\" must hold non-negative integers");
            elements *= Math.Max(d, 1);
            if (d > int.MaxValue || elements > MaxElements)
            {
                throw ServingException.BadRequest($"shape dimension {d} makes the tensor larger than {MaxElements} elements");
            }

            shape[i] = (int)d;
        }

        return shape;
    }
}
