namespace Tessera.Kernels.Linear;

/// <summary>
/// Produces blocks of a B operand that exists only implicitly (a convolution's im2col matrix) straight in the
/// packed panel layout, so the SGEMM needs neither the explicit matrix nor a second copy of it. Called from several
/// threads at once for disjoint panels of one block.
/// </summary>
internal unsafe interface ISgemmBPacker
{
    /// <summary>
    /// Writes the Nr-wide panels [panel0, panel1) of B[pc..pc+kc, j0..j0+nc]; panel p lands at dst + p*nr*kc with the
    /// nr values of each k adjacent, and columns at or past nc are zero.
    /// </summary>
    void Pack(int pc, int kc, int j0, int nc, int panel0, int panel1, int nr, float* dst);
}
