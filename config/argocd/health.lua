-- Argo CD health check for systemd.operators.dev/SystemdWorkload.
-- It reads the conditions the controller writes by kstatus's rules (see the
-- README, "Health, conditions and GitOps tools"), in the order Argo CD's own
-- Deployment check does, except that failed comes before paused (a refused spec
-- reads Degraded even while paused): generation observed, failed, paused, done.
--   Stalled True (invalid spec, policy violation, no progress
--     within spec.progressDeadlineSeconds)          -> Degraded
--   Reconciling True, reason RolloutPaused          -> Suspended
--   Ready True (every node updated and ready)       -> Healthy
--   otherwise (rolling out, crash loop before the
--     deadline, status not written yet)             -> Progressing
-- Install: config/argocd/kustomization.yaml renders it into argocd-cm as
-- resource.customizations.health.systemd.operators.dev_SystemdWorkload.
local hs = { status = "Progressing", message = "Waiting for the controller to report status" }

if obj.status == nil or obj.status.conditions == nil then
  return hs
end
if obj.metadata.generation ~= nil and obj.status.observedGeneration ~= obj.metadata.generation then
  hs.message = "Waiting for the controller to observe generation " .. tostring(obj.metadata.generation)
  return hs
end

local conditions = {}
for _, c in ipairs(obj.status.conditions) do
  conditions[c.type] = c
end
local function holds(type)
  return conditions[type] ~= nil and conditions[type].status == "True"
end
local function say(c)
  return (c.reason or "") .. ": " .. (c.message or "")
end

if holds("Stalled") then
  hs.status = "Degraded"
  hs.message = say(conditions.Stalled)
elseif holds("Reconciling") and conditions.Reconciling.reason == "RolloutPaused" then
  hs.status = "Suspended"
  hs.message = say(conditions.Reconciling)
elseif holds("Ready") then
  hs.status = "Healthy"
  hs.message = say(conditions.Ready)
elseif holds("Reconciling") then
  hs.message = say(conditions.Reconciling)
elseif conditions.Ready == nil then
  -- A controller older than the Ready condition: nothing here says the workload is done.
  hs.message = "No Ready condition: the controller predates it"
end
return hs
