namespace Tessera.Cli.Bench.Gemm;

/// <summary>One shape's operands, ready to run through the kernel this process picked, and its check.</summary>
internal interface IGemmCase : IDisposable
{
    GemmShape Shape { get; }

    /// <summary>What runs: the path and micro-kernel the product takes, e.g. "sgemm avx512 8x48, A read in place".</summary>
    string Kernel { get; }

    /// <summary>Operations of one <see cref="Run"/> (2 per multiply-add), the padding of whole tiles included where it is timed alone.</summary>
    double Operations { get; }

    /// <summary>One product, C = A · B (and B's packing when it is not packed beforehand).</summary>
    void Run();

    /// <summary>The rows of C <see cref="Check"/> compares (all of them for small shapes).</summary>
    int[] CheckedRows { get; }

    /// <summary>Compares the last product's <see cref="CheckedRows"/> with a simple reference: null, or the first wrong element.</summary>
    string? Check();

    /// <summary>For tests: spoils one element of C, as a broken kernel would.</summary>
    void Spoil(int row, int column);
}
