"""Durable runs across processes: a worker killed at random points, resumed from its journal."""
