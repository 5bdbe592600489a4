module github.com/mlops-platform/node/pause

go 1.22
