package main

import "github.com/cairnkv/cairn/kv"

type problem = kv.Problem
