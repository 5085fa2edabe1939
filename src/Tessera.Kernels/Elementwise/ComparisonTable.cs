namespace Tessera.Kernels.Elementwise;

/// <summary>For each 8-bit lane mask, the eight bool bytes (0 or 1) it stands for, packed little-endian.</summary>
internal static class ComparisonTable
{
    public static readonly ulong[] Bytes = Build();

    private static ulong[] Build()
    {
        var table = new ulong[256];
        for (int mask = 0; mask < 256; mask++)
        {
            for (int bit = 0; bit < 8; bit++)
            {
                if ((mask & (1 << bit)) != 0)
                {
                    table[mask] |= 1UL << (8 * bit);
                }
            }
        }

        return table;
    }
}
