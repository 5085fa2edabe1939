using System.Runtime.InteropServices;

namespace Tessera.Cluster.Native;

/// <summary>
/// System V semaphore sets (Linux): the one counting semaphore whose holders' counts the kernel gives back when a
/// holder dies however it dies (<c>SEM_UNDO</c>), and whose waiters sleep in the kernel.
/// </summary>
internal static unsafe partial class Libc
{
    public const int IpcCreate = 0x200; // IPC_CREAT
    public const int IpcExclusive = 0x400; // IPC_EXCL
    public const short IpcNoWait = 0x800; // IPC_NOWAIT
    public const short SemaphoreUndo = 0x1000; // SEM_UNDO
    public const int ErrorNoEntry = 2; // ENOENT
    public const int ErrorInterrupted = 4; // EINTR
    public const int ErrorAgain = 11; // EAGAIN (also a semtimedop that timed out)
    public const int ErrorExists = 17; // EEXIST
    public const int ErrorInvalid = 22; // EINVAL (a set removed under the caller, with EIDRM)
    public const int ErrorRemoved = 43; // EIDRM
    private const int IpcRemove = 0; // IPC_RMID
    private const int GetValue = 12; // GETVAL

    /// <summary>One operation of a <see cref="SemaphoreOperate"/> call (struct sembuf).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SemaphoreOperation
    {
        public ushort Number;
        public short Change;
        public short Flags;

        public SemaphoreOperation(ushort number, short change, short flags)
        {
            Number = number;
            Change = change;
            Flags = flags;
        }
    }

    /// <summary>semget: the set's id, or -1 with <see cref="Marshal.GetLastPInvokeError"/> set.</summary>
    public static int SemaphoreGet(int key, int count, int flags) => semget(key, count, flags);

    /// <summary>
    /// Applies <paramref name="operations"/> at once (all or none), sleeping until they can be, or until
    /// <paramref name="timeoutMicroseconds"/> when that is not negative; 0 on success, else the errno
    /// (<see cref="ErrorAgain"/> for a timeout or an <see cref="IpcNoWait"/> that could not).
    /// </summary>
    public static int SemaphoreOperate(int id, ReadOnlySpan<SemaphoreOperation> operations, long timeoutMicroseconds)
    {
        fixed (SemaphoreOperation* ops = operations)
        {
            int result;
            if (timeoutMicroseconds < 0)
            {
                result = semop(id, ops, (nuint)operations.Length);
            }
            else
            {
                var timeout = new TimeSpec { Seconds = timeoutMicroseconds / 1_000_000, Nanoseconds = timeoutMicroseconds % 1_000_000 * 1000L };
                result = semtimedop(id, ops, (nuint)operations.Length, &timeout);
            }

            return result == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
    }

    /// <summary>A semaphore's value, or -1 (the set is gone).</summary>
    public static int SemaphoreValue(int id, int number) => semctl(id, number, GetValue, 0);

    /// <summary>Removes the set: its sleepers wake with <see cref="ErrorRemoved"/>.</summary>
    public static void SemaphoreRemove(int id) => _ = semctl(id, 0, IpcRemove, 0);

    /// <summary>The real user id, which keeps one user's semaphores apart from another's.</summary>
    public static uint UserId() => getuid();

    [LibraryImport("libc", SetLastError = true)]
    private static partial int semget(int key, int count, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int semop(int id, SemaphoreOperation* operations, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int semtimedop(int id, SemaphoreOperation* operations, nuint count, TimeSpec* timeout);

    // semctl is variadic; GETVAL and IPC_RMID read no fourth argument, which is passed as a plain integer.
    [LibraryImport("libc", SetLastError = true)]
    private static partial int semctl(int id, int number, int command, nint argument);

    [LibraryImport("libc")]
    private static partial uint getuid();
}
