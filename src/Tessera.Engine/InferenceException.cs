namespace Tessera.Engine;

/// <summary>A model cannot be loaded or run: an unsupported operator, a bad graph, or bad inputs. The message is one line for users.</summary>
public sealed class InferenceException(string message, Exception? inner = null) : Exception(message, inner);
