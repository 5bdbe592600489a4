// The Gateway API CRDs (standard channel) the local cluster installs (scripts/control-plane.sh):
// config/crd/standard/ of this module, at the version pinned here, verified against go.sum.
module github.com/mlops-platform/toolchain/gateway-api

go 1.25.0

require sigs.k8s.io/gateway-api v1.6.3
