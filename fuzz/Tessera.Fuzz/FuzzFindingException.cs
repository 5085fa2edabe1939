namespace Tessera.Fuzz;

/// <summary>Thrown out of the libFuzzer action for an input that broke its target's property.</summary>
internal sealed class FuzzFindingException(string message) : Exception(message);
