using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Steward.Server.Backups.Schedules;

/// <summary>
/// A fixed delay per instance, derived from its id, so many instances due at the same moment start spread
/// over the jitter window, evenly and in the same order every time. The delay is at most a tenth of the gap
/// to the following run, so a seconds-level schedule still fires close to its time.
/// </summary>
internal static class ScheduleJitter
{
    public static TimeSpan For(string instanceId, TimeSpan gap, TimeSpan max)
    {
        var window = gap / 10 < max ? gap / 10 : max;
        if (window <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(instanceId));
        var fraction = BinaryPrimitives.ReadUInt64LittleEndian(hash) / (double)ulong.MaxValue;
        return TimeSpan.FromTicks((long)(window.Ticks * fraction));
    }

    /// <summary>When a run whose occurrence is <paramref name="nominal"/> starts.</summary>
    public static DateTimeOffset Due(string instanceId, ScheduleTiming timing, DateTimeOffset nominal, TimeSpan max) =>
        nominal == DateTimeOffset.MaxValue ? nominal : nominal + For(instanceId, timing.Next(nominal, nominal) - nominal, max);
}
