using Steward.Catalog;
using Steward.Errors;

namespace Steward.Server.HighAvailability;

/// <summary>What highly available instances do not support (yet), refused before anything changes.</summary>
internal static class HaRules
{
    public static void RequireUpdatable(ServicePlan current, ServicePlan target, bool parametersChange, bool membersHavePlaces = false)
    {
        if (current.HighlyAvailable != target.HighlyAvailable)
        {
            if (membersHavePlaces)
            {
                // The conversion moves the single server's directories into a member's by a rename: one volume cannot
                // become another member's (docs/kubernetes.md#high-availability-on-kubernetes).
                throw StewardException.BadRequest($"changing between the plans '{current.Name}' and '{target.Name}' is not supported on Kubernetes yet (a member is a pod with a volume of its own); provision a new instance on '{target.Name}' and move the data with a backup");
            }

            if (parametersChange)
            {
                throw StewardException.BadRequest($"changing between the plans '{current.Name}' and '{target.Name}' adds or removes servers; change the parameters in a separate update");
            }

            return; // members are added (the single server becomes the primary) or removed (the primary becomes the single server)
        }

        // Parameters of an ha instance change in place, rolled over the members (HaParameterChange).
        if (current.HighlyAvailable && current.Id != target.Id)
        {
            throw StewardException.BadRequest($"an instance on the highly available plan '{current.Name}' changes only to a single-server plan of its service");
        }
    }

    /// <summary>
    /// A restore into an ha instance runs as a point-in-time restore into the primary's place (then the standbys are
    /// rebuilt from it): a physical PostgreSQL backup while WAL is archived. Anything else is refused.
    /// </summary>
    public static void RequireRestorable(ServicePlan plan, bool pointInTime, string what)
    {
        if (plan.HighlyAvailable && !pointInTime)
        {
            throw StewardException.BadRequest($"restoring {what} into an instance on the highly available plan '{plan.Name}' is not supported: only a physical PostgreSQL backup with WAL archiving on is restored into an ha instance (into the primary's place, then the standbys are rebuilt); restore into a standalone instance instead");
        }
    }

    public static void RequireRebuildable(ServicePlan plan)
    {
        if (plan.HighlyAvailable)
        {
            throw StewardException.BadRequest($"rebuilding an instance on the highly available plan '{plan.Name}' is not supported yet (the HA controller replaces a failed member); to start over from a backup, change the plan to a standalone one, rebuild, and change it back");
        }
    }

    public static void RequireClonableInto(ServicePlan plan)
    {
        if (plan.HighlyAvailable)
        {
            throw StewardException.BadRequest($"cloning into the highly available plan '{plan.Name}' is not supported yet; clone into a standalone plan, then change its plan");
        }
    }
}
